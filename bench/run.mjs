// The benchmark harness: Outpost and the official automerge-repo doing the same work on the same
// data in one run, side by side. `scripts/bench.sh` installs and builds what it needs, then runs this.
//
//   node bench/run.mjs [--quick] [--only outpost|anchor] [--out bench/results/latest.json]
//
// Every benchmark is its own child process that prints one JSON line per result (crates/bench,
// bench/outpost/browser.mjs, bench/anchor/*.mjs); this script runs them one after another (the
// machine has two cores: nothing runs beside a measurement), prints the table of medians with the
// budget and the ratio to the anchor, and writes the table and every raw line as JSON.
// Needs OUTPOST_RELAY, OUTPOST_DIST and OUTPOST_BENCH (scripts/bench.sh sets them).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: join(here, 'results', 'latest.json') },
  },
});
for (const v of ['OUTPOST_RELAY', 'OUTPOST_DIST', 'OUTPOST_BENCH']) {
  if (!process.env[v]) throw new Error(`${v} is not set: run scripts/bench.sh, which builds and sets it`);
}
const q = opt.quick;
const size = {
  browser: q ? 2000 : 10000, // cold start, memory, create, search
  pull: 1000,
  reconnect: q ? 2000 : 10000,
  like: 2000, // reconnect, like for like with the anchor (see bench/anchor/README.md)
  edits: 500,
  conns: 1000,
  clients: 200,
  shared: 10, // incidents the fan-out clients share (20 writers each); then one incident per client
  seconds: q ? 10 : 60,
  // The shared-incident run is a stress probe beyond the issue's workload; both implementations
  // collapse in it on two cores, and 60 s of collapse (over 4 minutes for the anchor) told no more.
  sharedSeconds: q ? 10 : 20,
  reps: q ? 3 : 5,
  alerts: q ? 2000 : 10000,
  fingerprints: q ? 100 : 500,
  alertSeconds: q ? 10 : 30, // the fan-out beside the burst outlasts it
};

const work = mkdtempSync(join(tmpdir(), 'outpost-bench-'));
const data = join(work, 'incidents.json');
const lines = [];
const failures = [];
const steps = [];
const began = Date.now();
const log = (s) => process.stderr.write(`${s}\n`);

/** Runs one benchmark process; collects the JSON lines it prints (tagged with `as`, if given). */
function step(title, cmd, args, { cwd = here, as } = {}) {
  log(`\n== ${title}`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const text = out.slice(0, nl).trim();
        out = out.slice(nl + 1);
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text);
        if (as) line.bench = as[line.bench] ?? line.bench;
        lines.push(line);
        log(`   ${text}`);
      }
    });
    child.on('exit', (code, signal) => {
      const secs = ((Date.now() - started) / 1000).toFixed(0);
      log(`== ${title}: ${code === 0 ? 'done' : `FAILED (${signal ?? `exit ${code}`})`} in ${secs} s`);
      steps.push({ title, seconds: Number(secs), ok: code === 0 });
      if (code !== 0) failures.push(title);
      resolve();
    });
  });
}

/** First-load transfer of the release build: the HTML, and the JS, wasm and CSS it loads. */
function outpostBundle(dist) {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const referenced = [...html.matchAll(/(?:href|src)="\/?([^"?#]+\.(?:js|wasm|css))"/g)].map((m) => m[1]);
  const files = ['index.html', ...new Set(referenced)];
  const sizes = files.map((f) => {
    const b = readFileSync(join(dist, f));
    return { f, raw: b.length, gzip: gzipSync(b, { level: 9 }).length, br: brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length };
  });
  const sum = (k) => sizes.reduce((s, x) => s + x[k], 0);
  lines.push({
    bench: 'bundle', impl: 'outpost', n: 0, raw_bytes: sum('raw'), gzip_bytes: sum('gzip'), brotli_bytes: sum('br'),
    files: Object.fromEntries(sizes.map(({ f, ...s }) => [f, s])),
    notes: 'index.html + the JS, wasm and CSS it references (Trunk release build, wasm-opt); gzip -9, brotli q11',
  });
  log(`\n== bundle: ${files.join(', ')}: gzip ${sum('gzip')} B, brotli ${sum('br')} B`);
}

try {
  await step('dataset', process.execPath, [join(here, 'data/generate.mjs'), '--count', String(Math.max(size.browser, size.reconnect)), '--seed', '42', '--out', data]);
  const bench = (title, args, as) => step(title, process.env.OUTPOST_BENCH, ['--data', data, '--reps', String(size.reps), ...args], { as });
  if (opt.only !== 'anchor') {
    outpostBundle(process.env.OUTPOST_DIST);
    await bench(`outpost: pull ${size.pull}`, ['pull', '--count', String(size.pull)]);
    await bench(`outpost: reconnect ${size.reconnect}`, ['reconnect', '--count', String(size.reconnect)]);
    if (size.like !== size.reconnect) await bench(`outpost: reconnect ${size.like}`, ['reconnect', '--count', String(size.like)], { reconnect: 'reconnect-like' });
    await bench(`outpost: converge 2 × ${size.edits}`, ['converge', '--edits', String(size.edits)]);
    await bench(`outpost: relay, ${size.conns} idle connections`, ['idle', '--conns', String(size.conns)]);
    await bench(`outpost: relay, ${size.clients} clients × ${size.seconds} s, one incident each`, ['fanout', '--clients', String(size.clients), '--seconds', String(size.seconds), '--docs', String(size.clients)], { 'relay-fanout': 'relay-fanout-own' });
    await bench(`outpost: relay, ${size.clients} clients × ${size.sharedSeconds} s on ${size.shared} incidents`, ['fanout', '--clients', String(size.clients), '--seconds', String(size.sharedSeconds), '--docs', String(size.shared)]);
    // The same run with the relay's judge off: what judging every change costs the fan-out.
    await step(`outpost: relay, judge off, ${size.clients} clients × ${size.sharedSeconds} s on ${size.shared} incidents`, process.env.OUTPOST_BENCH, ['--data', data, '--reps', String(size.reps), '--no-judge', 'fanout', '--clients', String(size.clients), '--seconds', String(size.sharedSeconds), '--docs', String(size.shared)], { as: { 'relay-fanout': 'relay-fanout-unjudged' } });
    // The same workload while 50 connections send the relay its largest frames as fast as it
    // reads them (issue 14): bounded memory, and well-behaved clients still served.
    // Each flooder on a token of its own (the worst case), then all 50 on one token, which the
    // relay's per-token limit holds back as a whole.
    await bench(`outpost: relay, ${size.clients} clients × ${size.sharedSeconds} s on ${size.shared} incidents, 50 connections flooding`, ['fanout', '--clients', String(size.clients), '--seconds', String(size.sharedSeconds), '--docs', String(size.shared), '--flood', '50']);
    await bench(`outpost: relay, ${size.clients} clients × ${size.sharedSeconds} s on ${size.shared} incidents, 50 connections of one token flooding`, ['fanout', '--clients', String(size.clients), '--seconds', String(size.sharedSeconds), '--docs', String(size.shared), '--flood', '50', '--flood-tokens', '1']);
    await bench(`outpost: the judge's cost per change, ${size.pull} incidents`, ['judge', '--count', String(size.pull)]);
    // Issue 16: a burst of alerts at the highest rate the relay takes, alone (its baseline) and
    // with issue 6's fan-out (one incident per device) running beside it.
    await bench(`outpost: alert burst, ${size.alerts} alerts over ${size.fingerprints} fingerprints, alone`, ['alerts', '--alerts', String(size.alerts), '--fingerprints', String(size.fingerprints), '--clients', '1', '--docs', '1', '--seconds', '5'], { 'alert-burst': 'alert-burst-alone' });
    await bench(`outpost: alert burst, ${size.alerts} alerts over ${size.fingerprints} fingerprints, ${size.clients} fan-out devices beside it`, ['alerts', '--alerts', String(size.alerts), '--fingerprints', String(size.fingerprints), '--clients', String(size.clients), '--docs', String(size.clients), '--seconds', String(size.alertSeconds)]);
    await step(`outpost: browser, ${size.browser} incidents`, process.execPath, [join(here, 'outpost/browser.mjs'), '--data', data, '--count', String(size.browser), '--reps', String(size.reps)]);
  }
  if (opt.only !== 'outpost') {
    const anchor = (script, args, as) => step(`automerge-repo: ${script} ${args.join(' ')}`, process.execPath, [join(here, 'anchor', script), ...args], { cwd: join(here, 'anchor'), as });
    // Three reps, not five: each takes 6-23 s, and the harness must fit in 20 minutes.
    await anchor('pull.mjs', ['--count', String(size.pull), '--reps', String(Math.min(size.reps, 3))]);
    await anchor('reconnect.mjs', ['--count', String(size.like), '--reps', String(size.reps)], { reconnect: 'reconnect-like' });
    await anchor('converge.mjs', ['--edits', String(size.edits), '--reps', String(size.reps)]);
    await anchor('relay.mjs', ['--conns', String(size.conns), '--clients', '0']);
    await anchor('relay.mjs', ['--conns', '0', '--clients', String(size.clients), '--seconds', String(size.seconds), '--docs', String(size.clients)], { 'relay-fanout': 'relay-fanout-own' });
    await anchor('relay.mjs', ['--conns', '0', '--clients', String(size.clients), '--seconds', String(size.sharedSeconds), '--docs', String(size.shared)]);
    await anchor('browser.mjs', ['--count', String(size.browser), '--reps', String(size.reps)]);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// The table: one row per measure, lower is better everywhere; ratio = anchor / Outpost.
const find = (bench, impl) => lines.find((l) => l.bench === bench && l.impl === impl);
const fmtMs = (x) => (x === undefined ? '—' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`);
const fmtBytes = (x) => (x === undefined ? '—' : x >= 2 ** 20 ? `${(x / 2 ** 20).toFixed(2)} MB` : x >= 1024 ? `${(x / 1024).toFixed(1)} KB` : `${Math.round(x)} B`);
const fmtCount = (x) => (x === undefined ? '—' : String(x));
const fmtMb = (x) => (x === undefined ? '—' : `${x.toFixed(1)} MB`);
const measures = [
  ['1', `cold start, ${size.browser} stored, worst case (its median)`, 'cold-start', 'worst_case_ms', fmtMs, '1 s'],
  ['1', 'cold start: right after the pull', 'cold-start', 'after_pull_ms', fmtMs, ''],
  ['1', 'cold start: short visits, 3 s apart (median)', 'cold-start', 'short_visits_ms', fmtMs, ''],
  ['1', 'cold start: after a crash mid-write (median)', 'cold-start', 'after_crash_ms', fmtMs, ''],
  ['1', 'cold start: once packed (median)', 'cold-start', 'settled_ms', fmtMs, ''],
  ['1', `cold start, ${size.browser} stored (median of every start)`, 'cold-start', 'median_ms', fmtMs, ''],
  ['1', 'cold start: longest task in the 3 s after the list shows (worst)', 'cold-start', 'longest_task_after_worst_ms', fmtMs, '50 ms'],
  ['1', 'packing the index while idle: longest task', 'cold-start', 'packing_longest_task_ms', fmtMs, ''],
  ['1', 'cold start: of which until the app runs', 'cold-start', 'wasm_started_median_ms', fmtMs, ''],
  ['2', 'create, durable (p95)', 'create', 'p95_ms', fmtMs, '50 ms'],
  ['2', 'create, durable (median)', 'create', 'median_ms', fmtMs, ''],
  ['', 'search as you type, longest main-thread task', 'search', 'longest_task_ms', fmtMs, '50 ms'],
  ['', 'search as you type, result shown (p95)', 'search', 'p95_ms', fmtMs, ''],
  ['3', `pull ${size.pull} (median)`, 'pull', 'median_ms', fmtMs, '2 s'],
  ['3', `pull ${size.pull}, bytes`, 'pull', 'bytes', fmtBytes, ''],
  ['4', `reconnect ${size.reconnect} unchanged`, 'reconnect', 'median_ms', fmtMs, '0.5 s'],
  ['4', `reconnect ${size.reconnect}, bytes`, 'reconnect', 'bytes', fmtBytes, '100 KB'],
  ['4', `reconnect ${size.like} unchanged (like for like)`, 'reconnect-like', 'median_ms', fmtMs, ''],
  ['4', `reconnect ${size.like}, bytes`, 'reconnect-like', 'bytes', fmtBytes, ''],
  ['5', `converge 2 × ${size.edits} offline edits`, 'converge', 'median_ms', fmtMs, ''],
  ['5', 'converge, bytes', 'converge', 'bytes', fmtBytes, ''],
  ['6', `relay, ${size.conns} idle connections, per connection`, 'relay-idle', 'bytes_per_conn', fmtBytes, '64 KB'],
  ['6', `fan-out, ${size.clients} clients × ${size.seconds} s, one incident each, p50`, 'relay-fanout-own', 'p50_ms', fmtMs, ''],
  ['6', 'fan-out, one incident each, p99', 'relay-fanout-own', 'p99_ms', fmtMs, '100 ms'],
  ['6', 'fan-out, one incident each, dropped', 'relay-fanout-own', 'dropped', fmtCount, '0'],
  ['6', 'fan-out, one incident each: time in the relay, p99', 'relay-fanout-own', 'hub_p99_ms', fmtMs, ''],
  ['6', `fan-out, ${size.clients} clients × ${size.sharedSeconds} s on ${size.shared} incidents, p50`, 'relay-fanout', 'p50_ms', fmtMs, ''],
  ['6', `fan-out, on ${size.shared} incidents, p99`, 'relay-fanout', 'p99_ms', fmtMs, '100 ms'],
  ['6', `fan-out, on ${size.shared} incidents, dropped`, 'relay-fanout', 'dropped', fmtCount, '0'],
  ['6', `fan-out, on ${size.shared} incidents: time in the relay, p99`, 'relay-fanout', 'hub_p99_ms', fmtMs, ''],
  ['6', `fan-out, on ${size.shared} incidents, judge off, p99 (baseline of the row above)`, 'relay-fanout-unjudged', 'p99_ms', fmtMs, ''],
  ['6', `fan-out, on ${size.shared} incidents, judge off: time in the relay, p99`, 'relay-fanout-unjudged', 'hub_p99_ms', fmtMs, ''],
  ['13', 'judge, per accepted change (median, µs)', 'judge', 'median_us', fmtCount, ''],
  ['13', 'judge, per accepted change (p99, µs)', 'judge', 'p99_us', fmtCount, ''],
  ['13', 'gate without the judge, per change (median, µs; baseline)', 'judge', 'unjudged_median_us', fmtCount, ''],
  ['14', `fan-out on ${size.shared} incidents, 50 connections flooding 8 MB frames, p99`, 'relay-fanout-flooded', 'p99_ms', fmtMs, '100 ms'],
  ['14', 'same, dropped', 'relay-fanout-flooded', 'dropped', fmtCount, '0'],
  ['14', 'same, relay resident memory at most', 'relay-fanout-flooded', 'relay_rss_max_mb', (x) => (x === undefined ? '—' : `${x} MB`), '512 MB'],
  ['14', 'same, the 50 flooders on one token, p99', 'relay-fanout-flooded-one-token', 'p99_ms', fmtMs, '100 ms'],
  ['14', 'same, the 50 flooders on one token, relay resident memory at most', 'relay-fanout-flooded-one-token', 'relay_rss_max_mb', (x) => (x === undefined ? '—' : `${x} MB`), '512 MB'],
  ['16', `alert burst, ${size.alerts} over ${size.fingerprints} fingerprints: incidents made`, 'alert-burst', 'incidents', fmtCount, String(size.fingerprints)],
  ['16', 'alert burst: alerts a second, alone', 'alert-burst-alone', 'alerts_per_second', fmtCount, ''],
  ['16', `alert burst: alerts a second, ${size.clients} fan-out devices beside it`, 'alert-burst', 'alerts_per_second', fmtCount, '≥ 1000'],
  ['16', 'alert burst: POST to the incident on a device, p99', 'alert-burst', 'to_device_p99_ms', fmtMs, '1 s'],
  ['16', 'alert burst: the fan-out meanwhile, p99', 'alert-burst', 'fanout_p99_ms', fmtMs, '100 ms'],
  ['16', 'alert burst: the fan-out meanwhile, dropped', 'alert-burst', 'fanout_dropped', fmtCount, '0'],
  ['7', 'bundle, first load, gzip', 'bundle', 'gzip_bytes', fmtBytes, '700 KB'],
  ['7', 'bundle, first load, brotli', 'bundle', 'brotli_bytes', fmtBytes, ''],
  ['8', `memory, ${size.browser} stored, list open`, 'memory', 'total_mb', fmtMb, '150 MB'],
  ['18', `dashboard, ${size.browser} incidents: opened → figures (median)`, 'dashboard', 'median_ms', fmtMs, '200 ms'],
  ['18', `dashboard, ${size.browser} incidents: longest main-thread task`, 'dashboard', 'longest_task_ms', fmtMs, '50 ms'],
  ['18', `CSV export, ${size.browser} incidents (median)`, 'csv-export', 'median_ms', fmtMs, '1 s'],
];
const table = measures.map(([row, what, bench, key, fmt, budget]) => {
  const ours = find(bench, 'outpost')?.[key];
  const theirs = find(bench, 'automerge-repo')?.[key];
  const ratio = ours > 0 && theirs > 0 ? theirs / ours : undefined;
  return { row, what, budget, outpost: ours, anchor: theirs, ratio, shown: [fmt(ours), fmt(theirs)] };
});

const widths = [3, 58, 8, 12, 16, 10];
const cell = (s, w, right) => (right ? String(s).padStart(w) : String(s).padEnd(w));
const print = (cols) => console.log(cols.map((c, i) => cell(c, widths[i], i >= 2)).join('  '));
console.log('');
print(['#', 'measure (lower is better)', 'budget', 'Outpost', 'automerge-repo', 'ratio']);
print(widths.map((w) => '-'.repeat(w)));
for (const r of table) print([r.row, r.what, r.budget || '', r.shown[0], r.shown[1], r.ratio === undefined ? '' : `${r.ratio >= 10 ? Math.round(r.ratio) : r.ratio.toFixed(1)}×`]);
console.log(`\nratio: automerge-repo ÷ Outpost (above 1: Outpost is ahead). ${((Date.now() - began) / 60000).toFixed(1)} min.`);

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version };
mkdirSync(dirname(opt.out), { recursive: true });
writeFileSync(opt.out, `${JSON.stringify({ date: new Date().toISOString(), quick: q, sizes: size, machine, minutes: Number(((Date.now() - began) / 60000).toFixed(1)), steps, failures, table: table.map(({ shown, ...r }) => r), results: lines }, null, 1)}\n`);
log(`wrote ${opt.out}`);
if (failures.length) {
  log(`failed: ${failures.join('; ')}`);
  process.exitCode = 1;
}
