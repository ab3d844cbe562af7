// The workspace document holds at the relay whatever the client: an admin's Outpost peer writes
// the workspace's SLA targets; an agent using the official npm automerge-repo, who reads the
// document like everyone, tries to change them and is refused. Nothing refused is stored or
// reaches another client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Relay } from '../e2e/support/relay.mjs';
import { cleanups, until, peers, change } from './support.mjs';

const run = promisify(execFile);
const RELAY = process.env.OUTPOST_RELAY;
const PEER = process.env.OUTPOST_PEER;

test('only an admin changes the workspace document, whatever program the agent uses', { timeout: 90_000 }, async () => {
  const relay = await Relay.start({ dev: false });
  cleanups.push(() => relay.dispose());
  const tokens = {};
  for (const [user, role] of [['root', 'admin'], ['ana', 'agent'], ['val', 'viewer']]) {
    const { stdout } = await run(RELAY, ['token', 'create', '--workspace', 'acme', '--user', user, '--role', role, '--data-dir', relay.dataDir]);
    tokens[user] = stdout.trim();
  }
  const ws = `ws://127.0.0.1:${relay.port}/sync`;
  // Every member learns the workspace document's id from the relay; it is the same for all.
  const session = async (user) => {
    const r = await fetch(new URL('/api/session', relay.url), { headers: { Authorization: `Bearer ${tokens[user]}` } });
    assert.equal(r.status, 200);
    return (await r.json()).workspace_document;
  };
  const id = await session('ana');
  assert.ok(id, 'the relay names the workspace document');
  assert.equal(await session('root'), id);

  // The admin writes P2's targets (resolution 4 h) with Outpost's own peer.
  const p2 = JSON.stringify({ response_minutes: 30, resolution_minutes: 240, calendar: 'always' });
  const { stdout } = await run(PEER, ['--url', ws, '--token', tokens.root, '--doc', id, '--create',
    '--set', 'type=outpost/workspace', '--set', `sla.P2=${p2}`, '--timeout', '20']);
  assert.equal(JSON.parse(stdout)['sla.P2'], p2);

  // The agent's automerge-repo reads it, and its change to P2 is refused with the reason.
  const { open } = peers(() => ws, tokens);
  const agent = await open('ana', `automerge:${id}`);
  await until(() => String(agent.handle.doc()?.['sla.P2']) === p2, `the agent to read the workspace (has ${JSON.stringify(agent.handle.doc())})`);
  change(agent.handle, 'ana', (d) => {
    d['sla.P2'] = JSON.stringify({ response_minutes: 30, resolution_minutes: 99999, calendar: 'always' });
  });
  await until(() => agent.refusals.length > 0, 'the agent to be told the change was refused');
  assert.match(agent.refusals[0].reason, /Changing the workspace needs the admin role/);

  // A viewer opening it now gets what the relay kept.
  const viewer = await open('val', `automerge:${id}`);
  await until(() => viewer.handle.doc()?.['sla.P2'] !== undefined, 'the viewer to read the workspace');
  assert.equal(String(viewer.handle.doc()['sla.P2']), p2, 'the relay stored a refused change');

  // An admin's change that leaves the settings unreadable is refused too.
  const admin = await open('root', `automerge:${id}`);
  await until(() => String(admin.handle.doc()?.['sla.P2']) === p2, 'the admin to read the workspace');
  change(admin.handle, 'root', (d) => {
    d['sla.P3'] = '{"response_minutes": 0}';
  });
  await until(() => admin.refusals.length > 0, 'the admin to be told the change was refused');
  assert.match(admin.refusals[0].reason, /This change to the workspace was refused/);
});
