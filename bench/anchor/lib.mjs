// Helpers shared by the Node anchor benchmarks: flags, condition waits, an automerge-repo sync
// server (Repo + NodeWSServerAdapter + NodeFSStorageAdapter, as automerge-repo's own sync server is
// set up: it announces nothing, it answers what clients ask for) with traffic counters, clients,
// seeding, and "in sync" detection.
import { fork } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as A from '@automerge/automerge';
import { Repo, generateAutomergeUrl, interpretAsDocumentId, parseAutomergeUrl } from '@automerge/automerge-repo';
import { NodeWSServerAdapter, WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs';
import { WebSocketServer } from 'ws';
import { generate } from '../data/generate.mjs';
import { seedStorage } from './model.mjs';

export { A };
export const log = (...xs) => process.stderr.write(`${xs.join(' ')}\n`);

/** Parses --name value flags with numeric defaults: flags({ count: 1000, reps: 5 }). */
export function flags(defaults) {
  const options = Object.fromEntries(Object.keys(defaults).map((k) => [k, { type: 'string' }]));
  const { values } = parseArgs({ options, strict: true });
  return Object.fromEntries(Object.entries(defaults).map(([k, d]) => [k, values[k] === undefined ? d : typeof d === 'number' ? Number(values[k]) : values[k]]));
}

/** Polls a condition (every `interval` ms) until it holds; throws after `timeout` ms. */
export async function until(fn, message, { timeout = 600_000, interval = 5 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${message}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

export const tempDir = (name) => mkdtempSync(join(tmpdir(), `outpost-anchor-${name}-`));

/** Counts WebSocket message payload bytes and frames both ways (what crates/peer's Traffic counts),
 * plus TCP bytes (framing and the HTTP upgrade included). Attach before the server adapter. */
export function countTraffic(wss) {
  const t = { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0, sockets: new Set() };
  wss.on('connection', (socket, req) => {
    t.sockets.add(req.socket);
    socket.on('message', (data) => {
      t.framesIn++;
      t.bytesIn += data.byteLength ?? data.length;
    });
    const send = socket.send.bind(socket);
    socket.send = (data, ...rest) => {
      t.framesOut++;
      t.bytesOut += data.byteLength ?? data.length;
      return send(data, ...rest);
    };
  });
  const tcp = () => [...t.sockets].reduce((s, x) => s + x.bytesRead + x.bytesWritten, 0);
  let mark = { bytes: 0, frames: 0, tcp: 0 };
  return {
    reset() {
      mark = { bytes: t.bytesIn + t.bytesOut, frames: t.framesIn + t.framesOut, tcp: tcp() };
    },
    /** Since the last reset: { bytes, frames, wire_bytes } (closed sockets keep their counts). */
    read() {
      return { bytes: t.bytesIn + t.bytesOut - mark.bytes, frames: t.framesIn + t.framesOut - mark.frames, wire_bytes: tcp() - mark.tcp };
    },
  };
}

/** Starts the sync server on 127.0.0.1:0 with NodeFS storage in `dir`; resolves once it handles connections. */
export async function startServer(dir = tempDir('server')) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const traffic = countTraffic(wss);
  // The adapter attaches its 'connection' handler only once the repo has resolved its storage id;
  // a socket accepted before that is never answered. Wait for that handler (ours is the first).
  const handling = new Promise((resolve) => {
    wss.on('newListener', (event) => event === 'connection' && resolve());
  });
  const repo = new Repo({
    network: [new NodeWSServerAdapter(wss)],
    storage: new NodeFSStorageAdapter(dir),
    peerId: 'anchor-server',
    sharePolicy: async () => false,
  });
  await handling;
  return {
    repo, wss, dir, traffic, storageId: await repo.storageId(),
    url: `ws://127.0.0.1:${wss.address().port}`,
    async close() {
      await repo.shutdown();
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

/** A client repo: in memory, or with NodeFS storage in `dir`; online unless `offline`. */
export function client(url, { dir, peerId, offline = false } = {}) {
  const adapter = offline ? [] : [new WebSocketClientAdapter(url)];
  return new Repo({ network: adapter, storage: dir ? new NodeFSStorageAdapter(dir) : undefined, peerId });
}

/**
 * Watches a client repo's connection to the server: `drops()` counts the times it lost the server
 * while connected (e.g. the server's keep-alive terminating a socket whose pong came too late, see
 * README.md "Known limits"); `whenConnected()` waits until it is connected (again).
 *
 * Wait for a connection before `repo.shutdown()` or `goOffline(repo)`: when the socket has closed
 * by itself, WebSocketClientAdapter has already scheduled a reconnect in 5 s (retryInterval) that its
 * disconnect() does not cancel, so a repo shut down in that window joins the server again and syncs
 * (or, with the server gone, retries every 5 s and keeps the process alive). Once it has reconnected there is no timer left and disconnect() is clean.
 */
export function watchConnection(repo) {
  let drops = 0;
  let connected = repo.peers.length > 0;
  const onPeer = () => {
    connected = true;
  };
  // Also emitted for every failed reconnect attempt; only a drop of a live connection counts.
  const onDrop = () => {
    if (connected) drops++;
    connected = false;
  };
  repo.networkSubsystem.on('peer', onPeer);
  repo.networkSubsystem.on('peer-disconnected', onDrop);
  return {
    drops: () => drops,
    whenConnected: (timeout = 60_000) => until(() => repo.peers.length > 0, 'the client to be connected', { timeout, interval: 20 }),
    stop() {
      repo.networkSubsystem.off('peer', onPeer);
      repo.networkSubsystem.off('peer-disconnected', onDrop);
    },
  };
}

/**
 * Finds every id, at most `window` finds in flight (default: all at once), and waits until every
 * handle is ready. A find that comes back "unavailable" is not a failure here: when the connection drops,
 * automerge-repo marks every document it is still requesting unavailable (no peer left to ask),
 * reconnects by itself and asks again, and an unavailable handle turns ready when its document
 * arrives; the app only has to wait on the handle (calling find again would not help: it rejects at
 * once while the handle is unavailable). Returns { handles, retries }: retries = finds that came
 * back unavailable (or failed) and were waited on.
 */
export async function findAll(repo, ids, { window = Infinity, timeout = 600_000 } = {}) {
  const find = (id) => repo.find(id, { allowableStates: ['ready', 'unavailable'] }).catch((e) => {
    // find also rejects (rather than reporting unavailable) if the handle's own 60 s wait times out.
    const handle = repo.handles[interpretAsDocumentId(id)];
    if (!handle || handle.isDeleted()) throw e;
    return handle;
  });
  const handles = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      handles[i] = await find(ids[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, ids.length) }, worker));
  const late = handles.filter((h) => !h.isReady());
  if (late.length) await until(() => late.every((h) => h.isReady()), `${late.length} documents found unavailable to arrive`, { timeout, interval: 20 });
  return { handles, retries: late.length };
}

/** Takes a client repo offline (closes its socket) and back online (a new socket, as on a restart of the adapter). */
export const goOffline = (repo) => {
  for (const a of [...repo.networkSubsystem.adapters]) repo.networkSubsystem.removeNetworkAdapter(a);
};
export const goOnline = (repo, url) => repo.networkSubsystem.addNetworkAdapter(new WebSocketClientAdapter(url));

/** Generates `count` incidents into `repo`'s storage (see seedStorage in model.mjs); with `load`,
 * then finds them all, so the server holds them in memory as one that created them would. */
export async function seed(repo, count, seedValue = 42, { load = true } = {}) {
  const { incidents } = generate(count, seedValue);
  const start = performance.now();
  const newId = () => parseAutomergeUrl(generateAutomergeUrl()).documentId;
  const seeded = await seedStorage(A, repo, incidents, newId, (n) => log(`seeded ${n}/${count} (${Math.round(performance.now() - start)} ms)`));
  if (load) {
    for (let i = 0; i < seeded.ids.length; i += 500) await Promise.all(seeded.ids.slice(i, i + 500).map((id) => repo.find(id)));
    await repo.find(seeded.index);
  }
  return seeded;
}

/** Copies a NodeFS storage directory for another device: same document bytes, its own storage id. */
export function copyStorage(from, to) {
  cpSync(from, to, { recursive: true });
  const walk = (d) => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
  for (const f of walk(to)) if (f.includes('storage-adapter-id') || f.includes('sync-state')) rmSync(f);
}

const sameHeads = (a, b) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

/**
 * Watches a repo's sync states: a document is confirmed in sync with `peerId` once a sync state
 * for that peer, set after `arm()`, records their heads equal to ours. Sync states are only set when
 * a message is generated or received; theirHeads only changes on a received message, and a client
 * re-parses its states on every new connection (which forgets theirHeads), so arm before connecting.
 */
export function syncWatch(repo, peerId) {
  const confirmed = new Set();
  let armed = false;
  repo.synchronizer.on('sync-state', ({ documentId, peerId: p, syncState }) => {
    if (!armed || p !== peerId || !syncState.theirHeads) return;
    const handle = repo.handles[documentId];
    if (handle?.isReady() && sameHeads(syncState.theirHeads, A.getHeads(handle.doc()))) confirmed.add(documentId);
    else confirmed.delete(documentId);
  });
  return {
    arm() {
      confirmed.clear();
      armed = true;
    },
    inSync: (ids) => ids.every((id) => confirmed.has(id)),
    count: () => confirmed.size,
  };
}

export { sameHeads };

/**
 * Forks a relay-child.mjs role. `next(type)` resolves with the child's next message of that type;
 * `ask(msg, type)` sends and waits for the reply. The server role ('server', docs, seed) first sends
 * { ready, url, dir, index, ids }, then answers: reset / traffic ({ bytes, frames, wire_bytes } since
 * the reset) / clients ({ n }) / arm ({ peer }) / synced ({ ids }: once every id is in sync with the
 * armed peer) / rss ({ rss } after a GC, with --expose-gc) / stop.
 */
export function child(args, execArgv = []) {
  const proc = fork(fileURLToPath(new URL('./relay-child.mjs', import.meta.url)), args.map(String), { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map();
  let exited;
  proc.on('message', (m) => {
    waiting.get(m.type)?.resolve(m);
    waiting.delete(m.type);
  });
  // A child that dies (an uncaught error in automerge-repo, say) fails whoever waits on it,
  // instead of leaving the benchmark waiting forever.
  proc.on('exit', (code, signal) => {
    exited = new Error(`the ${args[0]} process exited (${signal ?? `code ${code}`})`);
    for (const w of waiting.values()) w.reject(exited);
    waiting.clear();
  });
  const next = (type) => new Promise((resolve, reject) => {
    if (exited) reject(exited);
    else waiting.set(type, { resolve, reject });
  });
  return {
    proc, next,
    ask(msg, type = msg.type) {
      const reply = next(type);
      if (!exited) proc.send(msg);
      return reply;
    },
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', resolve);
      proc.send({ type: 'stop' });
    }),
  };
}
