// Roles hold at the relay, whatever the client: the official npm automerge-repo, with a viewer's
// and an agent's token, tries each change the rules forbid. Nothing refused is stored or reaches a
// second client, the sender is told why (an ephemeral message on the document), and the relay
// keeps serving. A valid incident written by automerge-repo is kept and read back by Outpost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ImmutableString, getObjectId } from '@automerge/automerge-repo';
import { Relay } from '../e2e/support/relay.mjs';
import { cleanups, until, peers, change, incident } from './support.mjs';

const run = promisify(execFile);
const RELAY = process.env.OUTPOST_RELAY;
let relay;
const tokens = {};
const ws = () => `ws://127.0.0.1:${relay.port}/sync`;

async function start() {
  relay = await Relay.start({ dev: false });
  cleanups.push(() => relay.dispose());
  for (const [user, role] of [['ana', 'agent'], ['val', 'viewer'], ['mona', 'manager'], ['bea', 'agent']]) {
    const { stdout } = await run(RELAY, ['token', 'create', '--workspace', 'acme', '--user', user, '--role', role, '--data-dir', relay.dataDir]);
    tokens[user] = stdout.trim();
  }
}

const { client, open } = peers(ws, tokens);

let url;
let watcher;

test('an agent using automerge-repo logs, works and resolves a valid incident', { timeout: 60_000 }, async () => {
  await start();
  const repo = client('ana');
  const handle = repo.create(incident(new Date()));
  url = handle.url;
  change(handle, 'ana', (d, at) => {
    d.work_notes.push({ author: 'ana', at, body: 'Controller in B2 rebooted' });
    return [{ kind: 'note_added', note_kind: 'work_note', note: getObjectId(d.work_notes[0]) }];
  });
  change(handle, 'ana', (d) => {
    d.state = 'in_progress';
    return [{ kind: 'transition', action: 'start_work', from: 'new', to: 'in_progress' }];
  });
  change(handle, 'ana', (d) => {
    d.state = 'resolved';
    d.resolution_code = 'solution_provided';
    d.resolution_notes = 'Controller replaced';
    return [{ kind: 'transition', action: 'resolve', from: 'in_progress', to: 'resolved' }];
  });
  // A second client of the workspace receives all of it.
  watcher = await open('bea', url);
  await until(() => watcher.handle.doc()?.state === 'resolved', 'the second client to see the resolved incident');
  assert.equal(watcher.handle.doc().work_notes.length, 1);
  // And the relay's audit names who delivered it.
  const { stdout } = await run(RELAY, ['audit', 'INC-JS01-0001', '--data-dir', relay.dataDir]);
  const lines = stdout.trim().split('\n').slice(2);
  assert.equal(lines.length, 4, stdout);
  for (const line of lines) assert.match(line, /ana \(agent, [0-9a-f]{12}\)$/, stdout);
  // automerge-repo's create() names no author; the three attributed changes name ana.
  assert.match(lines[0], /\(not recorded\)/);

});

/** `user` opens the incident, makes `edit`, and is refused with `reason`; nobody else sees it. */
async function refused(user, edit, reason) {
  const peer = await open(user, url);
  await until(() => peer.handle.doc()?.state === 'resolved', `${user} to sync the incident`);
  const before = JSON.stringify(watcher.handle.doc());
  change(peer.handle, user, edit);
  await until(() => peer.refusals.length > 0, `${user} to be told the change was refused`);
  assert.match(peer.refusals[0].reason, reason);
  assert.ok(peer.refusals[0].changes.length >= 1);
  // A client that opens it now, with nothing stored, gets what the relay kept: not the change.
  const fresh = await open('bea', url);
  await until(() => fresh.handle.doc()?.state !== undefined, 'a fresh client to load the incident');
  assert.equal(JSON.stringify(fresh.handle.doc()), before, 'the relay stored a refused change');
  assert.equal(JSON.stringify(watcher.handle.doc()), before, 'a refused change reached another client');
}

test('a viewer changes nothing, not even a comment', { timeout: 60_000 }, async () => {
  await refused('val', (d, at) => {
    d.comments.push({ author: 'val', at, body: 'Looks fixed to me' });
  }, /needs the agent role/);
  await refused('val', (d) => {
    d.title = 'Renamed by a viewer';
  }, /needs the agent role/);
});

test('an agent cannot close, delete or rewrite a note, or change the record', { timeout: 120_000 }, async () => {
  await refused('ana', (d) => {
    d.state = 'closed';
  }, /Closing needs the manager role/);
  await refused('ana', (d) => {
    d.major_incident = true;
  }, /major incident needs the manager role/);
  await refused('ana', (d) => {
    d.work_notes.deleteAt(0);
  }, /cannot be edited or deleted/);
  await refused('ana', (d) => {
    d.work_notes[0].body = 'Nothing happened';
  }, /cannot be edited or deleted/);
  await refused('ana', (d) => {
    d.reference = new ImmutableString('INC-JS01-0999');
  }, /reference number/);
  await refused('ana', (d) => {
    delete d.type;
  }, /not a readable incident/);
  await refused('ana', (d) => {
    d.state = 'new';
  }, /cannot go from Resolved to New/);
});

test('the relay keeps serving: a manager closes, and then nobody may change the closed incident', { timeout: 60_000 }, async () => {
  const mona = await open('mona', url);
  await until(() => mona.handle.doc()?.state === 'resolved', 'the manager to sync the incident');
  change(mona.handle, 'mona', (d) => {
    d.state = 'closed';
    return [{ kind: 'transition', action: 'close', from: 'resolved', to: 'closed' }];
  });
  await until(() => watcher.handle.doc()?.state === 'closed', 'the close to reach the second client');
  assert.deepEqual(mona.refusals, []);
  const again = await open('mona', url);
  await until(() => again.handle.doc()?.state === 'closed', 'the manager to sync the closed incident');
  change(again.handle, 'mona', (d) => {
    d.title = 'Edited after closure';
  });
  await until(() => again.refusals.length > 0, 'the manager to be told');
  assert.match(again.refusals[0].reason, /Closed; only its review/);
  assert.equal(watcher.handle.doc().title, 'Badge readers offline in building B');
});

test('a note in someone else\'s name is kept, and the audit shows who delivered it', { timeout: 60_000 }, async () => {
  const bea = await open('bea', url);
  await until(() => bea.handle.doc()?.state === 'closed', 'bea to sync the incident');
  const mona = await open('mona', url);
  await until(() => mona.handle.doc()?.state === 'closed', 'mona to sync the incident');
  change(mona.handle, 'the CEO', (d) => {
    d.review.overview = 'Approved';
  });
  await until(() => bea.handle.doc()?.review?.overview === 'Approved', 'the review to reach bea');
  const { stdout } = await run(RELAY, ['audit', 'INC-JS01-0001', '--data-dir', relay.dataDir]);
  const forged = stdout.trim().split('\n').pop();
  assert.match(forged, /\tthe CEO\t.*mona \(manager, [0-9a-f]{12}\)\tDELIVERED BY SOMEONE ELSE$/, stdout);
});
