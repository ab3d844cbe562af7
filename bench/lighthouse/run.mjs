// Lighthouse audit of the release build as the real relay serves it, with Debian's Chromium.
//
//   (cd bench/lighthouse && npm ci)          # once; scripts/setup.sh does it too
//   node bench/lighthouse/run.mjs [--runs N] [--json PATH]
//
// Starts outpost-relay on 127.0.0.1 (ephemeral port, fresh data dir, --dev so the app gets a
// token and syncs as a signed-in user would), runs the Lighthouse CLI against it N times
// (default 3; mobile emulation with Lighthouse's default simulated throttling), prints each run's
// performance, accessibility, best-practices and SEO scores, their median, and the audits that
// cost points, then stops the relay. Nothing leaves the machine: the page is on loopback,
// Chromium runs with background networking and component updates off, and Lighthouse's error
// reporting is disabled.
//
// Environment: OUTPOST_RELAY (default $CARGO_TARGET_DIR/release/outpost-relay, with
// CARGO_TARGET_DIR defaulting to ~/.cache/outpost/target), OUTPOST_DIST (default ./dist of the
// repository), CHROME_PATH (default /usr/bin/chromium).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'outpost', 'target');
process.env.OUTPOST_RELAY ??= join(target, 'release', 'outpost-relay');
process.env.OUTPOST_DIST ??= join(root, 'dist');
process.env.CHROME_PATH ??= '/usr/bin/chromium';
const { Relay } = await import('../../tests/e2e/support/relay.mjs');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const runs = Number(option('--runs', '3'));
const jsonOut = option('--json', null);

const CHROME_FLAGS = '--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --no-first-run';
const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];
const lighthouse = join(here, 'node_modules', '.bin', 'lighthouse');

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const relay = await Relay.start({ dev: true });
const work = await mkdtemp(join(tmpdir(), 'outpost-lighthouse-'));
const results = [];
let last;
try {
  for (let run = 1; run <= runs; run++) {
    const output = join(work, `run-${run}.json`);
    const command = [
      relay.url,
      `--chrome-flags=${CHROME_FLAGS}`,
      `--only-categories=${CATEGORIES.join(',')}`,
      '--no-enable-error-reporting',
      '--output=json',
      `--output-path=${output}`,
      '--quiet',
    ];
    if (run === 1) console.error(`CHROME_PATH=${process.env.CHROME_PATH} lighthouse ${command.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ')}`);
    await promisify(execFile)(lighthouse, command, { maxBuffer: 64 << 20 });
    last = JSON.parse(await readFile(output, 'utf8'));
    const scores = Object.fromEntries(CATEGORIES.map((c) => [c, Math.round(last.categories[c].score * 100)]));
    const metrics = Object.fromEntries(
      ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift', 'speed-index'].map((id) => [
        id,
        last.audits[id].displayValue,
      ]),
    );
    results.push({ scores, metrics });
    console.log(`run ${run}: ${CATEGORIES.map((c) => `${c} ${scores[c]}`).join(', ')}`);
    console.log(`        ${Object.entries(metrics).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  const summary = Object.fromEntries(CATEGORIES.map((c) => [c, median(results.map((r) => r.scores[c]))]));
  console.log(`median of ${runs}: ${CATEGORIES.map((c) => `${c} ${summary[c]}`).join(', ')}`);
  console.log(`Lighthouse ${last.lighthouseVersion}, ${last.environment.hostUserAgent}`);

  // What cost points in the last run, by category.
  for (const category of CATEGORIES) {
    const lost = last.categories[category].auditRefs
      .filter((ref) => ref.weight > 0 && last.audits[ref.id].score !== null && last.audits[ref.id].score < 1)
      .map((ref) => `${ref.id} (${last.audits[ref.id].displayValue ?? `score ${last.audits[ref.id].score}`})`);
    if (lost.length) console.log(`${category}, below full marks: ${lost.join('; ')}`);
  }
  if (jsonOut) await writeFile(jsonOut, JSON.stringify({ runs: results, median: summary }, null, 2));
} finally {
  await relay.dispose();
  await rm(work, { recursive: true, force: true });
}
