// Runs every anchor benchmark, one after another (each in its own Node process), and prints all
// their JSON lines on stdout (progress on stderr). Exits non-zero if any failed.
//
//   node bench/anchor/all.mjs [--pull 1000] [--reconnect 10000] [--edits 500] [--conns 1000]
//                             [--clients 200] [--seconds 60] [--browser 10000] [--reps 5] [--seed 42]
//   node bench/anchor/all.mjs --quick      (pull 1000, reconnect 1000, relay 10 s, browser 2000, 3 reps)
// reconnect defaults to 2000, not 10000: see README.md.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: Object.fromEntries(['pull', 'reconnect', 'edits', 'conns', 'clients', 'seconds', 'browser', 'reps', 'seed'].map((k) => [k, { type: 'string' }]).concat([['quick', { type: 'boolean' }]])),
});
const quick = values.quick;
const v = (k, full, short) => values[k] ?? String(quick ? short : full);
const reps = v('reps', 5, 3);
const seed = v('seed', 42, 42);
const runs = [
  ['pull.mjs', '--count', v('pull', 1000, 1000), '--reps', reps, '--seed', seed],
  ['reconnect.mjs', '--count', v('reconnect', 2000, 1000), '--reps', reps, '--seed', seed],
  ['converge.mjs', '--edits', v('edits', 500, 500), '--reps', reps, '--seed', seed],
  ['relay.mjs', '--conns', v('conns', 1000, 1000), '--clients', v('clients', 200, 200), '--seconds', v('seconds', 60, 10)],
  ['browser.mjs', '--count', v('browser', 10000, 2000), '--reps', reps, '--seed', seed],
];

let failed = 0;
const begin = performance.now();
for (const [script, ...args] of runs) {
  const started = performance.now();
  process.stderr.write(`== ${script} ${args.join(' ')}\n`);
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d) => process.stdout.write(d));
    child.on('exit', resolve);
  });
  process.stderr.write(`== ${script}: exit ${code} after ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  if (code !== 0) failed++;
}
process.stderr.write(`== all: ${((performance.now() - begin) / 1000).toFixed(0)} s, ${failed} failed\n`);
process.exitCode = failed ? 1 : 0;
