// Knowledge articles hold their rules at the relay, whatever the client: with the official npm
// automerge-repo, an agent writes a draft (kept, and read by a second client), but may not write
// one already published nor publish one; a manager publishes. Nothing refused reaches anyone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ImmutableString } from '@automerge/automerge-repo';
import { Relay } from '../e2e/support/relay.mjs';
import { cleanups, until, peers } from './support.mjs';

const run = promisify(execFile);
const RELAY = process.env.OUTPOST_RELAY;
let relay;
const tokens = {};
const ws = () => `ws://127.0.0.1:${relay.port}/sync`;
const { client, open } = peers(ws, tokens);

/** A draft article as crates/core/src/knowledge.rs lays it out. */
function article(now, fields = {}) {
  const s = (t) => new ImmutableString(t);
  return {
    type: s('outpost/knowledge'), schema: 1, number: s('KB-JS01-0001'),
    title: s('Badge readers go offline after a power cut'), symptoms: s('Readers show a red light.'),
    cause: s('The controller does not restart on its own.'), resolution: s('Power-cycle the controller in B2.'),
    category: s('Hardware'), service: s('Physical access'),
    state: s('draft'), author: s('ana'), created_at: now, sources: {},
    ...fields,
  };
}

/** One attributed change, as the app writes them. */
function change(handle, by, what, edit) {
  const at = new Date();
  handle.change(edit, { time: Math.floor(at.getTime() / 1000), message: JSON.stringify({ by, at: at.getTime(), what }) });
}

test('an agent writes a draft with automerge-repo; publishing it needs a manager', { timeout: 90_000 }, async () => {
  relay = await Relay.start({ dev: false });
  cleanups.push(() => relay.dispose());
  for (const [user, role] of [['ana', 'agent'], ['mona', 'manager'], ['bea', 'agent']]) {
    const { stdout } = await run(RELAY, ['token', 'create', '--workspace', 'acme', '--user', user, '--role', role, '--data-dir', relay.dataDir]);
    tokens[user] = stdout.trim();
  }

  // Written already published by an agent: refused, and never stored.
  const sneaky = client('ana');
  const early = sneaky.create();
  const refusals = [];
  early.on('ephemeral-message', ({ message }) => message?.type === 'outpost/refused' && refusals.push(message));
  change(early, 'ana', 'Wrote KB-JS01-0002', (d) => Object.assign(d, article(new Date(), { number: new ImmutableString('KB-JS01-0002'), state: new ImmutableString('published') })));
  await until(() => refusals.length > 0, 'the published-at-once article to be refused');
  assert.match(refusals[0].reason, /Publishing a knowledge article needs the manager role/);

  // A draft: kept, and a second client reads it.
  const ana = client('ana');
  const handle = ana.create();
  change(handle, 'ana', 'Wrote KB-JS01-0001', (d) => Object.assign(d, article(new Date())));
  const bea = await open('bea', handle.url);
  await until(() => String(bea.handle.doc()?.number) === 'KB-JS01-0001', 'the second client to read the draft');
  assert.equal(String(bea.handle.doc().state), 'draft');

  // The agent publishes it: refused, and the second client never sees it published.
  const again = await open('ana', handle.url);
  await until(() => again.handle.doc()?.state !== undefined, 'ana to sync the draft');
  change(again.handle, 'ana', 'Published', (d) => { d.state = new ImmutableString('published'); });
  await until(() => again.refusals.length > 0, 'the agent\'s publishing to be refused');
  assert.match(again.refusals[0].reason, /Publishing a knowledge article needs the manager role/);
  const fresh = await open('bea', handle.url);
  await until(() => fresh.handle.doc()?.state !== undefined, 'a fresh client to load the article');
  assert.equal(String(fresh.handle.doc().state), 'draft', 'the relay stored a refused change');

  // Nor may anyone strip its marker to get out of the article's rules.
  const stripper = await open('ana', handle.url);
  await until(() => stripper.handle.doc()?.state !== undefined, 'ana to sync the draft again');
  change(stripper.handle, 'ana', 'Edited title', (d) => { delete d.type; d.title = new ImmutableString('Anything goes'); });
  await until(() => stripper.refusals.length > 0, 'the stripped marker to be refused');
  assert.match(stripper.refusals[0].reason, /not a readable knowledge article/);

  // The manager publishes it: kept, and it reaches the second client.
  const mona = await open('mona', handle.url);
  await until(() => mona.handle.doc()?.state !== undefined, 'mona to sync the draft');
  change(mona.handle, 'mona', 'Published', (d) => { d.state = new ImmutableString('published'); });
  await until(() => String(bea.handle.doc()?.state) === 'published', 'the second client to see it published');
  assert.equal(mona.refusals.length, 0);
});
