// Interoperability, with the official npm automerge-repo 2.x as a real peer:
// - JavaScript clients sync through the Outpost relay, with each other and with Outpost's client;
// - Outpost's sync client syncs with automerge-repo's own WebSocket server.
// Everything runs on 127.0.0.1, on ephemeral ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Repo, generateAutomergeUrl, parseAutomergeUrl } from '@automerge/automerge-repo';
import { WebSocketClientAdapter, NodeWSServerAdapter } from '@automerge/automerge-repo-network-websocket';
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs';
import { WebSocket, WebSocketServer } from 'ws';
import { Relay } from '../e2e/support/relay.mjs';
import { cleanups, until } from './support.mjs';

const run = promisify(execFile);
const RELAY = process.env.OUTPOST_RELAY;
const PEER = process.env.OUTPOST_PEER;
async function relayWithToken(workspace, users) {
  const relay = await Relay.start({ dev: false });
  cleanups.push(() => relay.dispose());
  const tokens = {};
  for (const user of users) {
    const { stdout } = await run(RELAY, ['token', 'create', '--workspace', workspace, '--user', user, '--data-dir', relay.dataDir]);
    tokens[user] = stdout.trim();
  }
  return { relay, tokens, ws: `ws://127.0.0.1:${relay.port}/sync` };
}

function jsClient(url, peerId) {
  const repo = new Repo({ network: [new WebSocketClientAdapter(url)], peerId });
  cleanups.push(() => repo.shutdown());
  return repo;
}

/** Runs the native Outpost peer; resolves with its JSON output. */
async function outpostPeer(args) {
  const { stdout } = await run(PEER, [...args, '--timeout', '20']);
  return JSON.parse(stdout);
}

const text = (v) => (v === undefined || v === null ? v : String(v));

test('a JavaScript client and Outpost sync one document both ways through the relay', { timeout: 60_000 }, async () => {
  const { ws, tokens } = await relayWithToken('acme', ['js', 'outpost']);
  const repo = jsClient(`${ws}?token=${tokens.js}`, 'js-client');
  const handle = repo.create({ title: 'from js' });
  // The relay stores it once the JavaScript client has synced; Outpost then fetches it by id.
  let seen;
  await until(async () => {
    try {
      seen = await outpostPeer(['--url', ws, '--token', tokens.outpost, '--doc', handle.documentId, '--expect', 'title=from js', '--set', 'reply=from outpost']);
      return true;
    } catch {
      return false;
    }
  }, 'Outpost to fetch the JavaScript document');
  assert.equal(seen.title, 'from js');
  assert.equal(seen.reply, 'from outpost');
  await until(() => text(handle.doc()?.reply) === 'from outpost', 'the JavaScript client to receive Outpost\'s change');
});

test('two JavaScript clients sync through the relay', { timeout: 60_000 }, async () => {
  const { ws, tokens } = await relayWithToken('acme', ['a', 'b']);
  const a = jsClient(`${ws}?token=${tokens.a}`, 'js-a');
  const b = jsClient(`${ws}?token=${tokens.b}`, 'js-b');
  const handle = a.create({ notes: ['from a'] });
  await until(async () => {
    try {
      const found = await b.find(handle.url);
      return found.doc()?.notes?.length === 1;
    } catch {
      return false;
    }
  }, 'b to find a\'s document through the relay');
  const mine = await b.find(handle.url);
  mine.change((d) => d.notes.push('from b'));
  await until(() => handle.doc().notes.length === 2, 'a to receive b\'s note');
  assert.deepEqual([...handle.doc().notes].map(String).sort(), ['from a', 'from b']);
});

test('a client without a valid token is refused at the upgrade, with a reason', { timeout: 30_000 }, async () => {
  const { ws } = await relayWithToken('acme', []);
  for (const url of [ws, `${ws}?token=opt_forged`]) {
    const { status, body } = await new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.on('open', () => reject(new Error(`${url} was accepted`)));
      socket.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      socket.on('error', () => {});
    });
    assert.equal(status, 401, url);
    assert.match(JSON.parse(body).error, /token/);
  }
});

test('Outpost\'s sync client syncs with automerge-repo\'s own WebSocket server', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-js-server-'));
  // automerge-repo's file storage may still be flushing after shutdown: retry a busy directory.
  cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  // The adapter only starts handling connections once the repo has resolved its storage id and
  // called its connect(); a socket accepted before that is never answered, then dropped by the
  // keep-alive. Wait for the adapter's connection handler, not for time.
  const handling = new Promise((resolve) => {
    wss.on('newListener', (event) => event === 'connection' && resolve());
  });
  const server = new Repo({
    network: [new NodeWSServerAdapter(wss)],
    storage: new NodeFSStorageAdapter(dir),
    peerId: 'js-sync-server',
    sharePolicy: async () => false,
  });
  cleanups.push(async () => {
    await server.shutdown();
    wss.close();
  });
  await handling;
  const url = `ws://127.0.0.1:${wss.address().port}`;
  const { documentId } = parseAutomergeUrl(generateAutomergeUrl());

  // Outpost creates a document; the JavaScript server stores it.
  const created = await outpostPeer(['--url', url, '--doc', documentId, '--create', '--set', 'title=from outpost']);
  assert.equal(created.title, 'from outpost');
  const handle = await server.find(`automerge:${documentId}`);
  assert.equal(text(handle.doc().title), 'from outpost');

  // The server changes it; a new Outpost device fetches the change.
  handle.change((d) => {
    d.reply = 'from the js server';
  });
  const fetched = await outpostPeer(['--url', url, '--doc', documentId, '--expect', 'reply=from the js server']);
  assert.equal(fetched.title, 'from outpost');
});
