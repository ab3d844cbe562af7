// Restricted incidents hold at the relay, whatever the client: the official npm automerge-repo,
// signed in as someone outside the incident's groups, cannot find it, stops hearing about an
// incident restricted while it watched, cannot write into it, and its audit is hidden; members
// of the groups work it as usual.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ImmutableString } from '@automerge/automerge-repo';
import { Relay } from '../e2e/support/relay.mjs';
import { cleanups, until, peers, change, incident } from './support.mjs';

const run = promisify(execFile);
const RELAY = process.env.OUTPOST_RELAY;
let relay;
const tokens = {};
const ws = () => `ws://127.0.0.1:${relay.port}/sync`;
const { client, open } = peers(ws, tokens);

async function start() {
  relay = await Relay.start({ dev: false });
  cleanups.push(() => relay.dispose());
  for (const [user, groups] of [['sam', 'security'], ['lee', 'security,legal'], ['dan', '']]) {
    const { stdout } = await run(RELAY, ['token', 'create', '--workspace', 'acme', '--user', user, '--groups', groups, '--data-dir', relay.dataDir]);
    tokens[user] = stdout.trim();
  }
}

/** What `user` is told by the relay's audit API about a document. */
async function audit(user, url) {
  const id = url.replace('automerge:', '');
  const response = await fetch(`http://127.0.0.1:${relay.port}/api/audit/${id}`, { headers: { authorization: `Bearer ${tokens[user]}` } });
  assert.equal(response.status, 200);
  return (await response.json()).arrivals;
}

/** Whether an automerge-repo peer of `user`, with nothing stored, is told the document is unavailable. */
async function unavailable(user, url) {
  try {
    await client(user).find(url);
    return false;
  } catch (e) {
    return /unavailable/.test(String(e));
  }
}

test('an incident restricted to security reaches its members and nobody else', { timeout: 60_000 }, async () => {
  await start();
  const sam = client('sam');
  const handle = sam.create(incident(new Date(), { title: 'Phishing mail with a payroll link', restricted_to: 'security' }));
  const lee = await open('lee', handle.url);
  await until(() => lee.handle.doc()?.title === 'Phishing mail with a payroll link', 'lee, of security, to read it');
  assert.ok(await unavailable('dan', handle.url), 'dan, in no group, finds nothing');
  assert.deepEqual(await audit('dan', handle.url), [], 'nor its audit');
  assert.ok((await audit('lee', handle.url)).length >= 1, 'a member reads the audit');
});

test('restricting an incident someone watches stops it reaching them, and they cannot write into it', { timeout: 60_000 }, async () => {
  const sam = client('sam');
  const handle = sam.create(incident(new Date(), { reference: new ImmutableString('INC-JS01-0002'), title: 'Laptop stolen from a car' }));
  const dan = await open('dan', handle.url);
  await until(() => dan.handle.doc()?.title === 'Laptop stolen from a car', 'dan to read the open incident');
  change(handle, 'sam', (d) => {
    d.restricted_to = 'security';
  });
  change(handle, 'sam', (d) => {
    d.description = 'Disk was encrypted; VPN certificate revoked';
  });
  const lee = await open('lee', handle.url);
  await until(() => lee.handle.doc()?.description === 'Disk was encrypted; VPN certificate revoked', 'lee to see the restricted incident move on');
  assert.equal(dan.handle.doc().description, 'Since 07:50', 'nothing after the restriction reached dan');
  assert.ok(await unavailable('dan', handle.url));

  // Dan writes into his old copy: the relay takes none of it.
  change(dan.handle, 'dan', (d) => {
    d.title = 'Nothing to see here';
  });
  const fresh = await open('sam', handle.url);
  await until(() => fresh.handle.doc()?.description === 'Disk was encrypted; VPN certificate revoked', 'a fresh member peer to load it');
  assert.equal(fresh.handle.doc().title, 'Laptop stolen from a car');
  assert.equal(lee.handle.doc().title, 'Laptop stolen from a car');
});

test('nobody restricts an incident to groups they are not in', { timeout: 60_000 }, async () => {
  const sam = client('sam');
  const handle = sam.create(incident(new Date(), { reference: new ImmutableString('INC-JS01-0003'), title: 'Contract leaked' }));
  const dan = await open('dan', handle.url);
  await until(() => dan.handle.doc()?.title === 'Contract leaked', 'dan to read it');
  change(dan.handle, 'dan', (d) => {
    d.restricted_to = 'legal';
  });
  await until(() => dan.refusals.length > 0, 'dan to be told');
  assert.match(dan.refusals[0].reason, /would leave you unable to read it/);
  const fresh = await open('dan', handle.url);
  await until(() => fresh.handle.doc()?.title === 'Contract leaked', 'a fresh peer to load it');
  assert.equal(fresh.handle.doc().restricted_to, '');
});
