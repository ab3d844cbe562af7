// pull: a new device fetches every incident from an automerge-repo sync server.
//
// The server (Repo + NodeWSServerAdapter + NodeFSStorageAdapter in a temp dir, in its own process:
// relay-child.mjs) holds N generated incidents (one change per event) and the index document, written
// to its storage and loaded in memory. Each repetition starts a new in-memory client Repo (a new
// device, new peer id): it connects, finds the index document, reads the incident ids from it and
// finds every incident, --window finds in flight at a time (default 100; 0 = all at once). Measured:
// from creating the client (connect) to all N incident handles ready. Bytes: WebSocket payload both
// ways, counted on the server's sockets until then (wire_bytes: TCP, framing and the upgrade
// included; sockets the server dropped keep their counts).
//
// Why a window, and the retries/disconnects fields. With all 1000 finds at once this failed with
// "Document … is unavailable". Not a timeout (DocHandle's is 60 s), not a doc-unavailable from the
// server (it sent none), not the `reset` IPC (it only resets byte counters): the server dropped the
// client. 1000 finds at once keep the client's event loop busy for 7-11 s at a stretch here (1000
// DocHandles created inside find(), then the 1000 requests built in one long promise chain; the
// server counted 3 frames from it after 8.8 s). automerge-repo's WebSocket server pings every client
// every 5 s and terminates a socket that has not answered the previous ping (WebSocketServerAdapter,
// keepAliveInterval = 5000), so the pong came too late and the socket was terminated. On the close,
// the client removes its only peer and marks every document it is still requesting unavailable
// (DocSynchronizer.endSync → #checkDocUnavailable: no peer left to ask), and find() rejects.
// automerge-repo recovers by itself (the adapter reconnects after 5 s, the repo asks again for
// every document not yet ready, an unavailable handle turns ready when its document arrives), so an
// app that waits on those handles gets everything, but each reconnect asks for all the rest at once,
// stalls again and is dropped again: 46/226/73 s, 2/12/3 drops and 5.2-15.5 MB (resent documents)
// over three reps at 1000, against 28-41 s, no drop and 3.0 MB with 100 in flight (two runs). An app
// that needs every document keeps its event loop responsive by bounding the finds in flight, so
// that is the default; the server and the client keep their default settings (as
// automerge-repo-sync-server runs). findAll (lib.mjs) still waits on a find that comes back
// unavailable instead of failing, and the JSON line reports, per rep, retries (finds that came
// back unavailable and were waited on) and disconnects (connections the client lost); both are
// inside the measured time. See README.md.
//
//   node bench/anchor/pull.mjs [--count 1000] [--reps 5] [--seed 42] [--window 100]
import { child, client, findAll, flags, log, watchConnection } from './lib.mjs';
import { median, report } from './stats.mjs';

const opt = flags({ count: 1000, reps: 5, seed: 42, window: 100 });
log(`seeding ${opt.count} incidents into the server`);
const server = child(['server', opt.count, opt.seed]);
try {
  const { url, index, ids } = await server.next('ready');
  const times = [];
  const bytes = [];
  const wire = [];
  const retries = [];
  const disconnects = [];
  for (let rep = 0; rep < opt.reps; rep++) {
    await server.ask({ type: 'reset' });
    const start = performance.now();
    const device = client(url, { peerId: `new-device-${rep}` });
    const connection = watchConnection(device);
    const { handles: [list], retries: indexRetries } = await findAll(device, [index]);
    const known = Object.keys(list.doc().incidents);
    const { handles, retries: incidentRetries } = await findAll(device, known, { window: opt.window || Infinity });
    const ms = performance.now() - start;
    if (handles.length !== ids.length || handles.some((h) => !h.isReady() || !h.doc().title)) throw new Error(`rep ${rep}: not every incident arrived`);
    times.push(ms);
    retries.push(indexRetries + incidentRetries);
    disconnects.push(connection.drops());
    const t = await server.ask({ type: 'traffic' });
    bytes.push(t.bytes);
    wire.push(t.wire_bytes);
    log(`rep ${rep}: ${ms.toFixed(0)} ms, ${t.bytes} bytes in ${t.frames} frames, ${retries.at(-1)} finds came back unavailable, ${disconnects.at(-1)} connections dropped`);
    // Not while a reconnect is pending: see watchConnection in lib.mjs.
    await connection.whenConnected();
    connection.stop();
    await device.shutdown();
  }
  report('pull', times, {
    count: opt.count, window: opt.window || 'all', bytes: median(bytes), wire_bytes: median(wire), samples_ms: times.map(Math.round), retries, disconnects,
    notes: `new in-memory client Repo: connect, find the index doc, then find every incident (${opt.window ? `${opt.window} in flight at a time` : 'all at once'}); until all handles ready. Server in its own process; default keep-alive and reconnect settings. Per rep: retries = finds that came back unavailable after the server dropped the busy client (missed keep-alive pong) and were waited on until automerge-repo reconnected and asked again; disconnects = connections lost; both inside the time.`,
  });
} finally {
  await server.stop();
}
