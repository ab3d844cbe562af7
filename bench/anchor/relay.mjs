// relay: automerge-repo's WebSocket sync server under connections and load.
//
// relay-idle   The server runs in its own process (relay-child.mjs, --expose-gc). 10 warm-up clients
//              join, then RSS is read (after a GC); --conns more raw `ws` clients each send a CBOR
//              `join` (the repo's own cbor helper, protocol "1", ephemeral peer metadata) and wait for
//              the server's `peer` answer; RSS again. bytes_per_conn = (after - before) / conns.
//              The clients live in this process, so their memory is not counted.
// relay-fanout The server (own process) holds --docs incidents (default 10). --clients senders, each a
//              full automerge-repo client in a second child process holding only the incident it
//              writes (sender i writes incident i mod docs), make one change a second for --seconds,
//              spread evenly over each second; each change puts key "c<i>-<seq>" = send time (µs since
//              the epoch). An observer client in this process holds every incident and takes each
//              key's latency from the patch that brings it. dropped = sent - received by the end
//              (all received, or --seconds + 10 s after the start). Mirrors crates/bench's fanout.
//              refused = changes automerge-repo's handle.change threw on ("outdated document"),
//              so never sent; not counted in sent or dropped.
//
//   node bench/anchor/relay.mjs [--conns 1000] [--clients 200] [--seconds 60] [--docs 10]
//   (--conns 0 or --clients 0 skips that part)
import { WebSocket } from 'ws';
import { cbor } from '@automerge/automerge-repo/slim';
import { child, client, flags, log, until } from './lib.mjs';
import { median, p99, report, round2 } from './stats.mjs';

const opt = flags({ conns: 1000, clients: 200, seconds: 60, docs: 10 });
const MB = 2 ** 20;

/** A raw WebSocket client that joins as an automerge-repo peer; resolves once the server answers `peer`. */
function joinRaw(url, peerId) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.on('error', reject);
    ws.on('open', () => ws.send(cbor.encode({ type: 'join', senderId: peerId, peerMetadata: { isEphemeral: true }, supportedProtocolVersions: ['1'] })));
    ws.on('message', (data) => {
      if (cbor.decode(new Uint8Array(data)).type === 'peer') resolve(ws);
    });
  });
}

async function idle() {
  const server = child(['server'], ['--expose-gc']);
  const { url } = await server.next('ready');
  const sockets = [];
  try {
    for (let i = 0; i < 10; i++) sockets.push(await joinRaw(url, `warm-${i}`));
    const before = await server.ask({ type: 'rss' }, 'rss');
    for (let i = 0; i < opt.conns; i += 50) {
      const batch = Array.from({ length: Math.min(50, opt.conns - i) }, (_, k) => joinRaw(url, `idle-${i + k}`));
      sockets.push(...(await Promise.all(batch)));
    }
    const after = await server.ask({ type: 'rss' }, 'rss');
    if (after.peers < opt.conns + 10) throw new Error(`only ${after.peers} peers joined`);
    log(`idle: ${after.peers} peers, RSS ${(before.rss / MB).toFixed(1)} → ${(after.rss / MB).toFixed(1)} MB`);
    report('relay-idle', [], {
      conns: opt.conns, bytes_per_conn: Math.round((after.rss - before.rss) / opt.conns),
      rss_before_mb: round2(before.rss / MB), rss_after_mb: round2(after.rss / MB),
      notes: 'server process RSS after GC, 10 warm-up peers before; raw ws clients that joined (CBOR join → peer)',
    });
  } finally {
    for (const s of sockets) s.terminate();
    await server.stop();
  }
}

async function fanout() {
  const server = child(['server', String(opt.docs)]);
  const { url, ids } = await server.next('ready');
  const senders = child(['senders']);
  await senders.next('ready');
  const observer = client(url, { peerId: 'observer' });
  try {
    const handles = await Promise.all(ids.map((id) => observer.find(id)));
    const seen = new Set();
    const latencies = [];
    for (const h of handles) {
      h.on('change', ({ patches }) => {
        const now = Math.round((performance.timeOrigin + performance.now()) * 1000);
        for (const p of patches) {
          const key = p.path[0];
          if (p.action === 'put' && p.path.length === 1 && typeof key === 'string' && key.startsWith('c') && !seen.has(key)) {
            seen.add(key);
            latencies.push((now - p.value) / 1000);
          }
        }
      });
    }
    log(`fanout: connecting ${opt.clients} senders`);
    const { retries } = await senders.ask({ type: 'connect', url, ids, clients: opt.clients }, 'connected');
    if (retries) log(`fanout: ${retries} senders' finds came back unavailable and were waited on`);
    const begin = Date.now() + 1000;
    const done = senders.ask({ type: 'go', begin, seconds: opt.seconds }, 'done');
    const expected = opt.clients * opt.seconds;
    const progress = setInterval(() => log(`fanout: ${seen.size}/${expected} received`), 10_000);
    const stop = begin + (opt.seconds + 10) * 1000;
    await until(() => seen.size >= expected || Date.now() > stop, 'the changes', { interval: 50, timeout: (opt.seconds + 30) * 1000 });
    clearInterval(progress);
    const { sent, refused, firstRefusal } = await done;
    if (refused) log(`fanout: automerge-repo refused ${refused} changes: ${firstRefusal}`);
    report('relay-fanout', [], {
      clients: opt.clients, docs: opt.docs, seconds: opt.seconds, sent, received: seen.size, dropped: sent - seen.size, refused, find_retries: retries,
      p50_ms: round2(median(latencies)), p99_ms: round2(p99(latencies)),
      notes: 'senders: automerge-repo clients (one child process) each holding only its incident; observer in this process holds all; server in its own process',
    });
  } finally {
    await observer.shutdown();
    await senders.stop();
    await server.stop();
  }
}

if (opt.conns > 0) await idle();
if (opt.clients > 0) await fanout();
