// Starts the real relay binary on 127.0.0.1 with a fresh data directory, and stops it.
// OUTPOST_RELAY and OUTPOST_DIST are set by scripts/test.sh; a test may serve another dist.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const RELAY = process.env.OUTPOST_RELAY;
const DIST = process.env.OUTPOST_DIST;

export class Relay {
  /** Starts a relay. `port` 0 picks a free one; pass the old port to restart "the same server". */
  /** `dev: true` lets the app fetch a token for the shared `default` workspace (sync tests only:
   *  tests that expect their own isolated data must not share a workspace). */
  /** `dist` serves another copy of the build than OUTPOST_DIST (e.g. one a test modifies). */
  /** `args` are more of the relay's flags (`['--smtp-url', …]`). */
  static async start({ port = 0, dataDir, dev = false, dist = DIST, args = [] } = {}) {
    if (!RELAY || !dist) throw new Error('OUTPOST_RELAY and OUTPOST_DIST must be set (scripts/test.sh sets them)');
    const relay = new Relay();
    relay.dist = dist;
    relay.ownsDataDir = !dataDir;
    relay.dataDir = dataDir ?? (await mkdtemp(join(tmpdir(), 'outpost-e2e-')));
    relay.dev = dev;
    relay.args = args;
    await relay.#spawn(port);
    return relay;
  }

  async #spawn(port) {
    this.log = '';
    const args = ['--host', '127.0.0.1', '--port', String(port), '--dist', this.dist, '--data-dir', this.dataDir];
    if (this.dev) args.push('--dev');
    args.push(...this.args);
    this.child = spawn(RELAY, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    });
    this.child.stderr.on('data', (d) => { this.log += d; });
    this.url = await new Promise((resolve, reject) => {
      let out = '';
      const onData = (d) => {
        out += d;
        const m = out.match(/Outpost is running at (\S+)/);
        if (m) { this.child.stdout.off('data', onData); resolve(m[1]); }
      };
      this.child.stdout.on('data', onData);
      this.child.once('exit', (code) => reject(new Error(`relay exited with ${code} before starting:\n${this.log}`)));
    });
    this.port = Number(new URL(this.url).port);
  }

  /** Stops the relay (SIGTERM, as an operator would) and waits for it to exit. */
  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }

  /** Brings the relay back on the same port with the same data. */
  async restart() {
    await this.stop();
    await this.#spawn(this.port);
  }

  async dispose() {
    await this.stop();
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
