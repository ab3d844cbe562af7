// Child processes for the benchmarks, so each role's memory and CPU are its own (automerge's wasm heap
// is per process, and a process holding thousands of documents slows down more than linearly):
//   node relay-child.mjs server [docs] [seed]   the sync server holding `docs` generated incidents
//   node relay-child.mjs senders                automerge-repo clients that each write one incident once a second
// Talks to its parent over IPC (process.send); see serverProcess in lib.mjs for the server's messages.
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import { Repo } from '@automerge/automerge-repo';
import { findAll, seed, startServer, syncWatch, until } from './lib.mjs';

const role = process.argv[2];

if (role === 'server') {
  const docs = Number(process.argv[3] ?? 0);
  const server = await startServer();
  const seeded = docs ? await seed(server.repo, docs, Number(process.argv[4] ?? 42)) : { ids: [] };
  let watch = null;
  process.on('message', async (m) => {
    if (m.type === 'reset') {
      server.traffic.reset();
      process.send({ type: 'reset' });
    } else if (m.type === 'traffic') {
      process.send({ type: 'traffic', ...server.traffic.read() });
    } else if (m.type === 'clients') {
      process.send({ type: 'clients', n: server.wss.clients.size });
    } else if (m.type === 'arm') {
      // From now on, count documents whose sync state for `peer` shows its heads equal to ours.
      watch ??= syncWatch(server.repo, m.peer);
      watch.arm();
      process.send({ type: 'arm' });
    } else if (m.type === 'synced') {
      await until(() => watch.inSync(m.ids), 'every document in sync', { interval: 10 });
      process.send({ type: 'synced' });
    } else if (m.type === 'rss') {
      globalThis.gc?.();
      await new Promise((r) => setImmediate(r));
      globalThis.gc?.();
      process.send({ type: 'rss', rss: process.memoryUsage().rss, clients: server.wss.clients.size, peers: server.repo.peers.length });
    } else if (m.type === 'stop') {
      await server.close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', url: server.url, dir: server.dir, index: seeded.index, ids: seeded.ids });
}

if (role === 'senders') {
  const micros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
  let repos = [];
  let handles = [];
  let sent = 0;
  // automerge-repo 2.5.6 sometimes refuses a change under this load ("Attempting to change an
  // outdated document", thrown by handle.change when a sync update raced it). Counted, not sent.
  let refused = 0;
  let firstRefusal;
  process.on('message', async (m) => {
    if (m.type === 'connect') {
      // Each sender is its own automerge-repo client holding only the incident it writes.
      repos = Array.from({ length: m.clients }, (_, i) => new Repo({ network: [new WebSocketClientAdapter(m.url)], peerId: `sender-${i}` }));
      // 200 finds at once sometimes come back "unavailable" (see findAll): wait for those.
      const found = await Promise.all(repos.map((r, i) => findAll(r, [m.ids[i % m.ids.length]])));
      handles = found.map((f) => f.handles[0]);
      process.send({ type: 'connected', retries: found.reduce((n, f) => n + f.retries, 0) });
    } else if (m.type === 'go') {
      // Sender i writes at begin + seq s + i/clients s: spread evenly over each second.
      const { begin, seconds } = m;
      const n = handles.length;
      await Promise.all(handles.map((h, i) => new Promise((resolve) => {
        let seq = 0;
        const tick = () => {
          if (seq >= seconds) return resolve();
          const key = `c${i}-${seq}`;
          try {
            h.change((d) => {
              d[key] = micros();
            });
            sent++;
          } catch (e) {
            refused++;
            firstRefusal ??= String(e?.message ?? e);
          }
          seq++;
          setTimeout(tick, begin + seq * 1000 + (i * 1000) / n - Date.now());
        };
        setTimeout(tick, begin + (i * 1000) / n - Date.now());
      })));
      process.send({ type: 'done', sent, refused, firstRefusal });
    } else if (m.type === 'stop') {
      await Promise.all(repos.map((r) => r.shutdown()));
      process.exit(0);
    }
  });
  process.send({ type: 'ready' });
}
