// converge: two devices each make offline edits to shared incidents, then reconnect; time until both
// hold every change from both.
//
// Per repetition (fresh everything, as crates/bench does for Outpost): the server creates the
// incidents (default 50); two in-memory client Repos ("alice", "bob") connect and find them all, then
// go offline (their sockets close). Each makes --edits changes, one handle.change each, spread over
// the incidents that are not closed (edit k: alice edits incident k mod n, bob (7k+3) mod n; every
// third edit rewrites the description, the others append a work note). Then both reconnect at once.
// Measured: reconnect → every document on both devices has the heads of the merge of both sides
// (computed beforehand with Automerge.merge). Bytes: WebSocket payload both ways, both devices,
// counted on the server's sockets.
//
//   node bench/anchor/converge.mjs [--edits 500] [--incidents 50] [--reps 5] [--seed 42]
import { A, client, flags, goOffline, goOnline, log, sameHeads, seed, startServer, until } from './lib.mjs';
import { edit } from './model.mjs';
import { median, report } from './stats.mjs';

const opt = flags({ edits: 500, incidents: 50, reps: 5, seed: 42 });
const times = [];
const bytes = [];
const wire = [];
for (let rep = 0; rep < opt.reps; rep++) {
  const server = await startServer();
  const a = client(server.url, { peerId: 'alice' });
  const b = client(server.url, { peerId: 'bob' });
  try {
    const { ids } = await seed(server.repo, opt.incidents, opt.seed);
    const [ha, hb] = await Promise.all([a, b].map((d) => Promise.all(ids.map((id) => d.find(id)))));
    // Closed incidents are read-only in Outpost; people edit the others.
    const open = ids.map((_, i) => i).filter((i) => ha[i].doc().state !== 'closed');
    goOffline(a);
    goOffline(b);
    await until(() => server.wss.clients.size === 0, 'both devices offline');
    for (let k = 0; k < opt.edits; k++) {
      edit(ha[open[k % open.length]], 'alice', k);
      edit(hb[open[(k * 7 + 3) % open.length]], 'bob', k);
    }
    const expected = ids.map((_, i) => A.getHeads(A.merge(A.clone(ha[i].doc()), hb[i].doc())));
    const converged = (hs) => hs.every((h, i) => sameHeads(A.getHeads(h.doc()), expected[i]));
    server.traffic.reset();
    const start = performance.now();
    goOnline(a, server.url);
    goOnline(b, server.url);
    await until(() => converged(ha) && converged(hb), 'convergence', { interval: 2 });
    times.push(performance.now() - start);
    const t = server.traffic.read();
    bytes.push(t.bytes);
    wire.push(t.wire_bytes);
    log(`rep ${rep}: ${times.at(-1).toFixed(0)} ms, ${t.bytes} bytes`);
  } finally {
    await a.shutdown();
    await b.shutdown();
    await server.close();
  }
}
report('converge', times, {
  edits_per_peer: opt.edits, incidents: opt.incidents, bytes: median(bytes), wire_bytes: median(wire), samples_ms: times.map(Math.round),
  notes: 'two in-memory client Repos edit offline (one handle.change per edit), reconnect together; until both hold the merged heads of every incident',
});
