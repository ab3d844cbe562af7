// Fills a relay's workspace with generated incidents, pushed by the native Outpost peer
// (outpost-bench, OUTPOST_BENCH) as colleagues' devices would.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../../../bench/data/generate.mjs';

const run = promisify(execFile);

/** Pushes `count` incidents (generated from `seed`) into a `--dev` relay's workspace. */
export async function seedRelay(relay, count, seed) {
  if (!process.env.OUTPOST_BENCH) throw new Error('OUTPOST_BENCH must be set (scripts/test.sh sets it)');
  const dir = await mkdtemp(join(tmpdir(), 'outpost-seed-'));
  try {
    const data = join(dir, 'incidents.json');
    await writeFile(data, JSON.stringify(generate(count, seed)));
    const { token } = await (await fetch(new URL('/api/dev-token?user=colleague', relay.url))).json();
    await run(process.env.OUTPOST_BENCH, ['--data', data, 'seed', '--url', `ws://127.0.0.1:${relay.port}/sync`, '--token', token, '--count', String(count)]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
