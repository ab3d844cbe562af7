// The anchor in the browser: automerge-repo 2.x + IndexedDBStorageAdapter in headless Chromium
// (Debian's, through playwright-core), page bundled with esbuild (browser/page.js) and served by a
// tiny static server on 127.0.0.1. Prints one JSON line per result:
//   bundle      first-load files (index.html with its CSS, app.js, automerge.wasm): raw, gzip, brotli
//   seed        the page writes N generated incidents into IndexedDB (not a comparison, context only)
//   cold-start  reload with N stored: navigation start → the list on screen with "N incidents" and
//               all N rows (the whole list, no pagination), median of --reps reloads
//   create      "Create incident" click → the new row on screen, after repo.flush() (IndexedDB
//               written); --creates samples, median and p95
//   memory      JS heap (CDP, after a GC) + automerge's wasm memory, N stored and the list open
// Timings are taken inside the page (performance.now(), a MutationObserver), as bench/outpost does.
//
//   node bench/anchor/browser.mjs [--count 10000] [--reps 5] [--creates 100] [--seed 42] [--screenshot list.png]
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { generate } from '../data/generate.mjs';
import { flags, log, until } from './lib.mjs';
import { report } from './stats.mjs';
import { pageMemory } from '../page-memory.mjs';

const opt = flags({ count: 10000, reps: 5, creates: 100, seed: 42, screenshot: '' });
const here = fileURLToPath(new URL('.', import.meta.url));

// Build: minified ESM bundle, plus the wasm file beside it.
const out = mkdtempSync(join(tmpdir(), 'outpost-anchor-page-'));
await esbuild.build({
  entryPoints: [join(here, 'browser/page.js')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
  minify: true, outfile: join(out, 'app.js'), logLevel: 'warning',
});
copyFileSync(createRequire(import.meta.url).resolve('@automerge/automerge/automerge.wasm'), join(out, 'automerge.wasm'));
writeFileSync(join(out, 'index.html'), `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Incidents</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>
body{font:14px system-ui,sans-serif;margin:0 1rem}ul{list-style:none;padding:0}li{display:flex;gap:1rem;padding:.25rem 0;border-bottom:1px solid #ddd}
.title{flex:1}.state{width:7rem}.priority{width:2rem}</style></head>
<body><header><h1>Incidents</h1><button id="create">Create incident</button></header><main></main>
<script type="module" src="app.js"></script></body></html>`);

const files = ['index.html', 'app.js', 'automerge.wasm'];
const sizes = files.map((f) => {
  const b = readFileSync(join(out, f));
  return { f, raw: b.length, gzip: gzipSync(b, { level: 9 }).length, br: brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length };
});
const sum = (k) => sizes.reduce((s, x) => s + x[k], 0);
report('bundle', [], {
  raw_bytes: sum('raw'), gzip_bytes: sum('gzip'), brotli_bytes: sum('br'),
  files: Object.fromEntries(sizes.map(({ f, ...s }) => [f, s])),
  notes: 'index.html (inline CSS) + app.js (esbuild, minified ESM) + automerge.wasm; gzip -9, brotli q11',
});

// The static server, with the dataset at /bench-data.json for the page's seeding.
const data = Buffer.from(JSON.stringify(generate(opt.count, opt.seed)));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname.slice(1) || 'index.html';
  const body = path === 'bench-data.json' ? data : files.includes(path) ? readFileSync(join(out, path)) : null;
  if (path === 'favicon.ico') return res.writeHead(204).end();
  res.writeHead(body ? 200 : 404, { 'content-type': types[extname(path)] ?? 'text/plain', 'cache-control': 'no-store' });
  res.end(body ?? 'not found');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;

// In the page, before the app: when the list is on screen, when a created row appears, and
// automerge's wasm memory.
function probe() {
  const b = (window.__bench = { created: [] });
  for (const name of ['instantiate', 'instantiateStreaming']) {
    const orig = WebAssembly[name];
    WebAssembly[name] = async (...args) => {
      const result = await orig.apply(WebAssembly, args);
      b.memory = (result.instance ?? result).exports?.memory ?? b.memory;
      return result;
    };
  }
  document.addEventListener('click', (e) => {
    if (e.target.closest('button')?.textContent.trim() === 'Create incident') {
      b.clickAt = performance.now();
      b.countBefore = document.querySelector('.result-count')?.textContent;
    }
  }, true);
  new MutationObserver(() => {
    const now = performance.now();
    const count = document.querySelector('.result-count')?.textContent ?? '';
    if (b.listReady === undefined && /^\d+ incidents?$/.test(count)) {
      b.listReady = now;
      b.listCount = count;
      b.rows = document.querySelectorAll('.incident-list li').length;
    }
    if (b.clickAt !== undefined && count !== b.countBefore) {
      b.created.push(now - b.clickAt);
      b.clickAt = undefined;
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(probe);
  const page = await context.newPage();
  page.on('pageerror', (e) => log(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && log(`console: ${m.text()}`));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');

  log(`seeding ${opt.count} incidents into IndexedDB`);
  let start = performance.now();
  const seeded = await page.evaluate(() => window.app.seed());
  report('seed', [performance.now() - start], { count: seeded, notes: 'in the page: build each incident with Automerge (one change per event), StorageSubsystem.saveDoc to IndexedDB' });

  const cold = [];
  for (let i = 0; i < opt.reps; i++) {
    await page.reload();
    await until(() => page.evaluate(() => window.__bench.listReady !== undefined), 'the list', { timeout: 300_000, interval: 50 });
    const b = await page.evaluate(() => ({ ready: window.__bench.listReady, count: window.__bench.listCount, rows: window.__bench.rows }));
    if (b.count !== `${opt.count} incidents` || b.rows !== opt.count) throw new Error(`the list said ${b.count} with ${b.rows} rows`);
    cold.push(b.ready);
    log(`cold start ${i}: ${b.ready.toFixed(0)} ms`);
  }
  report('cold-start', cold, { count: opt.count, notes: 'reload → result count and all N rows in the DOM (index doc loaded from IndexedDB; incident docs are not loaded)' });

  if (opt.screenshot) await page.screenshot({ path: opt.screenshot });

  // Memory with the list open (after a collection, so it is what stays).
  report('memory', [], { count: opt.count, ...(await pageMemory(context, page)),
    notes: 'after reload with the list open: JSHeapUsedSize after a GC + automerge wasm memory buffer size' });

  const button = page.getByRole('button', { name: 'Create incident' });
  for (let i = 0; i < opt.creates; i++) {
    await button.click();
    await until(() => page.evaluate((n) => window.__bench.created.length > n, i), 'the new incident', { timeout: 60_000, interval: 2 });
  }
  const created = await page.evaluate(() => window.__bench.created);
  report('create', created, { count: opt.count, notes: 'click → repo.create + index change + await repo.flush() (IndexedDB) → row and count on screen' });
} finally {
  await browser.close();
  server.close();
  rmSync(out, { recursive: true, force: true });
}
