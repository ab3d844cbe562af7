// pull: a new device fetches every incident from an automerge-repo sync server.
//
// The server (Repo + NodeWSServerAdapter + NodeFSStorageAdapter in a temp dir, in its own process:
// relay-child.mjs) holds N generated incidents (one change per event) and the index document, written
// to its storage and loaded in memory. Each repetition starts a new in-memory client Repo (a new
// device, new peer id): it connects, finds the index document, reads the incident ids from it and
// finds every incident (all at once). Measured: from creating the client (connect) to all N incident
// handles ready. Bytes: WebSocket payload both ways, counted on the server's sockets until then
// (wire_bytes: TCP, framing and the upgrade included).
//
//   node bench/anchor/pull.mjs [--count 1000] [--reps 5] [--seed 42]
import { child, client, flags, log } from './lib.mjs';
import { median, report } from './stats.mjs';

const opt = flags({ count: 1000, reps: 5, seed: 42 });
log(`seeding ${opt.count} incidents into the server`);
const server = child(['server', opt.count, opt.seed]);
try {
  const { url, index, ids } = await server.next('ready');
  const times = [];
  const bytes = [];
  const wire = [];
  for (let rep = 0; rep < opt.reps; rep++) {
    await server.ask({ type: 'reset' });
    const start = performance.now();
    const device = client(url, { peerId: `new-device-${rep}` });
    const list = await device.find(index);
    const known = Object.keys(list.doc().incidents);
    const handles = await Promise.all(known.map((id) => device.find(id)));
    const ms = performance.now() - start;
    if (handles.length !== ids.length || handles.some((h) => !h.isReady() || !h.doc().title)) throw new Error(`rep ${rep}: not every incident arrived`);
    times.push(ms);
    const t = await server.ask({ type: 'traffic' });
    bytes.push(t.bytes);
    wire.push(t.wire_bytes);
    log(`rep ${rep}: ${ms.toFixed(0)} ms, ${t.bytes} bytes in ${t.frames} frames`);
    await device.shutdown();
  }
  report('pull', times, {
    count: opt.count, bytes: median(bytes), wire_bytes: median(wire), samples_ms: times.map(Math.round),
    notes: 'new in-memory client Repo: connect, find the index doc, then find every incident (all at once); until all handles ready. Server in its own process.',
  });
} finally {
  await server.stop();
}
