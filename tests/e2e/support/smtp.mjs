// A real SMTP server for the notification tests: Debian's aiosmtpd (installed by setup) on
// 127.0.0.1 and a free port, keeping every mail it accepts in a Maildir the test reads.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './app.mjs';

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const listening = (port) => new Promise((resolve) => {
  const socket = connect(port, '127.0.0.1');
  socket.once('connect', () => { socket.destroy(); resolve(true); });
  socket.once('error', () => resolve(false));
});

/** A quoted-printable body (RFC 2045) as text. */
function unquote(text) {
  const bytes = Buffer.from(text.replace(/=\r?\n/g, ''), 'latin1').toString('latin1')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Headers unfolded, then the ones a test asks about; the body decoded. */
function parse(raw) {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const header = (name) => unfolded.match(new RegExp(`^${name}: (.*)$`, 'mi'))?.[1]?.trim() ?? '';
  const to = header('To');
  const body = rest.join('\n\n');
  const encoding = header('Content-Transfer-Encoding').toLowerCase();
  return {
    to: to.match(/<([^>]+)>/)?.[1] ?? to,
    subject: header('Subject'),
    body: encoding === 'quoted-printable' ? unquote(body) : encoding === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : body,
  };
}

export class Smtp {
  static async start() {
    const smtp = new Smtp();
    smtp.dir = await mkdtemp(join(tmpdir(), 'outpost-smtp-'));
    smtp.port = await freePort();
    smtp.child = spawn('aiosmtpd', ['-n', '-l', `127.0.0.1:${smtp.port}`, '-c', 'aiosmtpd.handlers.Mailbox', join(smtp.dir, 'maildir')], { stdio: 'ignore' });
    await until(() => listening(smtp.port), { timeout: 15_000, message: 'aiosmtpd listening' });
    smtp.url = `smtp://127.0.0.1:${smtp.port}`;
    return smtp;
  }

  /** Every mail accepted so far. */
  async received() {
    const dir = join(this.dir, 'maildir', 'new');
    let names = [];
    try { names = await readdir(dir); } catch { return []; }
    return Promise.all(names.map(async (n) => parse(await readFile(join(dir, n), 'utf8'))));
  }

  async dispose() {
    this.child?.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
