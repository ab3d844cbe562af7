// reconnect: a device that already has every incident reconnects to the sync server; nothing changed.
//
// The server (own process, relay-child.mjs) holds N generated incidents (one change per event) and
// the index, on disk and in memory; its NodeFS directory is copied for the device (same document
// bytes, the device's own storage id), so both hold the same documents. "In sync" for a document =
// the server's sync state for the device, updated by a message received on this connection, records
// the device's heads equal to the server's own (syncWatch in lib.mjs). Judged on the server because,
// when nothing changed, automerge-repo's server may not answer at all (its in-memory sync state says
// it already sent its heads), so the device never hears the server's heads again; the exchange is over
// once the server has seen every document's heads. Bytes: WebSocket payload both ways, counted on the
// server's sockets until then.
//
// Two lines:
//   reconnect          the running device Repo (every handle loaded) drops its socket and reconnects
//                      with a new adapter; --reps samples (what crates/bench measures for Outpost)
//   reconnect-restart  once, first: a new device Repo on that storage (an app restart) connects and
//                      finds all N documents (loaded from disk) until all are in sync
//
// Both lines report disconnects: connections the server dropped during the measurement because an
// event loop (the device's or its own) missed automerge-repo's 5 s keep-alive ping (see pull.mjs
// and README.md). Loaded from disk, a find here cannot come back unavailable (the handle is ready
// before the network is asked), but a drop costs a 5 s reconnect and a new round of sync messages;
// it is inside the time. Seen at 2000 on a loaded machine: 1-2 drops during the restart, none in
// the reps.
//
//   node bench/anchor/reconnect.mjs [--count 2000] [--reps 5] [--seed 42]
// 10000 is possible but slow: a Node process holding thousands of automerge documents slows down
// more than linearly (the wasm heap grows), see README.md.
import { child, client, copyStorage, flags, goOffline, goOnline, log, tempDir, until, watchConnection } from './lib.mjs';
import { median, report } from './stats.mjs';

const opt = flags({ count: 2000, reps: 5, seed: 42 });
log(`seeding ${opt.count} incidents into the server`);
const server = child(['server', opt.count, opt.seed]);
let device;
let connection;
try {
  const { url, dir: serverDir, index, ids } = await server.next('ready');
  const all = [index.slice('automerge:'.length), ...ids];
  const dir = tempDir('device');
  copyStorage(serverDir, dir);

  // An app restart: a new Repo on the device's storage, finding everything it has.
  await server.ask({ type: 'arm', peer: 'device' });
  await server.ask({ type: 'reset' });
  let start = performance.now();
  device = client(url, { dir, peerId: 'device' });
  connection = watchConnection(device);
  for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((id) => device.find(id)));
  const loaded = performance.now() - start;
  await server.ask({ type: 'synced', ids: all });
  const restart = performance.now() - start;
  const r = await server.ask({ type: 'traffic' });
  const restartDrops = connection.drops();
  log(`restart: ${restart.toFixed(0)} ms (documents loaded from disk after ${loaded.toFixed(0)} ms), ${r.bytes} bytes, ${restartDrops} connections dropped`);
  report('reconnect-restart', [restart], { count: opt.count, docs: all.length, load_ms: Math.round(loaded), bytes: r.bytes, frames: r.frames, wire_bytes: r.wire_bytes, disconnects: restartDrops,
    notes: `new device Repo on NodeFS storage holding every document: connect + find all (load from disk, 500 at a time) until the server has seen every doc's heads, equal to its own; disconnects = connections the server dropped meanwhile (missed keep-alive pong), included` });

  const times = [];
  const bytes = [];
  const frames = [];
  const wire = [];
  const disconnects = [];
  for (let rep = 0; rep < opt.reps; rep++) {
    // Not while a reconnect is pending: see watchConnection in lib.mjs.
    await connection.whenConnected();
    goOffline(device);
    await until(async () => (await server.ask({ type: 'clients' })).n === 0, 'the server to see the device go');
    await server.ask({ type: 'arm', peer: 'device' });
    await server.ask({ type: 'reset' });
    const dropsBefore = connection.drops();
    start = performance.now();
    goOnline(device, url);
    await server.ask({ type: 'synced', ids: all });
    times.push(performance.now() - start);
    disconnects.push(connection.drops() - dropsBefore);
    const t = await server.ask({ type: 'traffic' });
    bytes.push(t.bytes);
    frames.push(t.frames);
    wire.push(t.wire_bytes);
    log(`rep ${rep}: ${times.at(-1).toFixed(0)} ms, ${t.bytes} bytes in ${t.frames} frames, ${disconnects.at(-1)} connections dropped`);
  }
  report('reconnect', times, { count: opt.count, docs: all.length, bytes: median(bytes), frames: median(frames), wire_bytes: median(wire), samples_ms: times.map(Math.round), disconnects,
    notes: 'running device Repo with all docs loaded (NodeFS storage) drops its socket and reconnects; until the server has seen every doc\'s heads on this connection, equal to its own' });
} finally {
  if (device) await connection.whenConnected(15_000).catch(() => {});
  connection?.stop();
  await device?.shutdown();
  await server.stop();
}
