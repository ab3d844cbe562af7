// Medians and nearest-rank percentiles (the same definitions as crates/bench/src/stats.rs), and the
// one JSON line each anchor benchmark prints.

const sorted = (xs) => [...xs].sort((a, b) => a - b);

export function median(xs) {
  if (!xs.length) return NaN;
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The q quantile (0..1), nearest rank. */
export function quantile(xs, q) {
  if (!xs.length) return NaN;
  const s = sorted(xs);
  return s[Math.min(s.length, Math.max(1, Math.ceil(q * s.length))) - 1];
}

export const p95 = (xs) => quantile(xs, 0.95);
export const p99 = (xs) => quantile(xs, 0.99);
export const round2 = (x) => Math.round(x * 100) / 100;

/** Prints `{"bench", "impl": "automerge-repo", "n", "median_ms", "p95_ms", ...extra}` on stdout. */
export function report(bench, samples, extra = {}) {
  const line = { bench, impl: 'automerge-repo', n: samples.length };
  if (samples.length) {
    line.median_ms = round2(median(samples));
    line.p95_ms = round2(p95(samples));
  }
  Object.assign(line, extra);
  console.log(JSON.stringify(line));
  return line;
}
