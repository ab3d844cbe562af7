// Outpost in the browser, measured in headless Chromium against the release build served by the
// real relay (--dev, 127.0.0.1, ephemeral port). Prints one JSON line per result:
//   browser-pull  a new browser pulls N incidents from the relay into IndexedDB (app start included)
//   cold-start    reload with N stored: navigation start → list on screen with its count (and when
//                 the wasm module had started, to tell start-up from loading the list)
//   create        "Create incident" click → the incident's page, after its IndexedDB commit (p95)
//   search        typing a query key by key: from the end of the typing pause to the list showing
//                 the result, and the longest task (frame blocked) while typing and searching
//   memory        JS heap + wasm memory with N stored and the list open
// Timings are taken inside the page (performance.now(), MutationObserver), not by polling.
//
//   node bench/outpost/browser.mjs --data incidents.json --count 10000 [--reps 5] [--creates 50]
// Needs OUTPOST_RELAY, OUTPOST_DIST and OUTPOST_BENCH (the outpost-bench binary); bench/run.mjs sets them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { Relay } from '../../tests/e2e/support/relay.mjs';
import { launchBrowser } from '../../tests/e2e/support/browser.mjs';
import { openApp, until } from '../../tests/e2e/support/app.mjs';
import { median, p95, quantile, round2 as r2 } from '../anchor/stats.mjs';
import { pageMemory } from '../page-memory.mjs';
import { recordTasks } from './main-thread.mjs';

const run = promisify(execFile);
const { values: opt } = parseArgs({
  options: {
    data: { type: 'string' },
    count: { type: 'string', default: '10000' },
    reps: { type: 'string', default: '5' },
    creates: { type: 'string', default: '50' },
    searches: { type: 'string', default: '20' },
  },
});
const count = Number(opt.count);
const SEARCH_DELAY_MS = 120; // src/pages/list.rs: the typing pause before a search runs

const line = (bench, samples, extra = {}) =>
  console.log(JSON.stringify({ bench, impl: 'outpost', n: samples.length, ...(samples.length ? { median_ms: r2(median(samples)), p95_ms: r2(p95(samples)) } : {}), ...extra }));

// In the page, before the app: when the list is on screen, when a created incident's page
// appears, and when a search result shows.
function probe() {
  const b = (window.__bench = { created: [], searched: [], longTasks: [] });
  addEventListener('TrunkApplicationStarted', (e) => {
    b.memory = e.detail.wasm.memory;
    b.started = performance.now();
  });
  new PerformanceObserver((list) => {
    for (const t of list.getEntries()) b.longTasks.push({ start: t.startTime, duration: t.duration });
  }).observe({ type: 'longtask' });
  document.addEventListener('click', (e) => {
    if (e.target.closest('button')?.textContent.trim() === 'Create incident') b.clickAt = performance.now();
  }, true);
  document.addEventListener('input', (e) => {
    if (e.target.id === 'f-search') { b.typedAt = performance.now(); b.countBefore = document.querySelector('.result-count')?.textContent; }
  }, true);
  new MutationObserver(() => {
    const now = performance.now();
    const count = document.querySelector('.result-count')?.textContent ?? '';
    if (b.listReady === undefined && /^\d+ incidents?$/.test(count) && document.querySelector('.incident-list li')) {
      b.listReady = now;
      b.listCount = count;
    }
    if (b.clickAt !== undefined && /^\/incidents\/(?!new)/.test(location.pathname) && document.querySelector('h1')) {
      b.created.push(now - b.clickAt);
      b.clickAt = undefined;
    }
    if (b.typedAt !== undefined && count !== b.countBefore) {
      b.searched.push(now - b.typedAt);
      b.typedAt = undefined;
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

const relay = await Relay.start({ dev: true });
const browser = await launchBrowser();
try {
  // Fill the relay's workspace, as colleagues' devices would have.
  const { token } = await (await fetch(new URL('/api/dev-token?user=seeder', relay.url))).json();
  const ws = `ws://127.0.0.1:${relay.port}/sync`;
  const seeded = await run(process.env.OUTPOST_BENCH, ['--data', opt.data, 'seed', '--url', ws, '--token', token, '--count', String(count)], { maxBuffer: 1 << 20 });
  process.stderr.write(`seeded: ${seeded.stdout}`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(probe);
  const page = await context.newPage();
  const pullStart = Date.now();
  await openApp(page, relay.url, 'Bench Tech');
  // Every incident, not only the open ones (the list's default filter).
  await page.goto(new URL('/?state=all', relay.url).href);
  await until(async () => (await page.locator('.result-count').textContent()) === `${count} incidents`, { timeout: 30 * 60_000, message: `${count} incidents in the list` });
  await until(async () => (await page.locator('.sync-label').textContent()) === 'Up to date', { timeout: 10 * 60_000, message: 'up to date' });
  line('browser-pull', [Date.now() - pullStart], { count });

  const cold = [];
  const started = [];
  const blockedAfter = [];
  for (let i = 0; i < Number(opt.reps); i++) {
    await page.reload();
    const ready = await until(() => page.evaluate(() => window.__bench.listReady), { timeout: 120_000, message: 'the list' });
    const shown = await page.evaluate(() => window.__bench.listCount);
    if (shown !== `${count} incidents`) throw new Error(`the list said ${shown}`);
    cold.push(ready);
    started.push(await page.evaluate(() => window.__bench.started));
    // Is the list usable once shown? The longest main-thread task in the next 3 s (search
    // texts loading, sync starting), which is how long a tap could wait.
    await page.waitForFunction((at) => performance.now() > at + 3000, ready, { polling: 250 });
    blockedAfter.push(await page.evaluate((at) => Math.max(0, ...window.__bench.longTasks.filter((t) => t.start >= at && t.start < at + 3000).map((t) => t.duration)), ready));
  }
  line('cold-start', cold, {
    count, samples_ms: cold.map(r2), wasm_started_median_ms: r2(median(started)), longest_task_after_ms: r2(median(blockedAfter)),
    note: 'longest_task_after_ms: median over reps of the longest main-thread task in the 3 s after the list shows',
  });

  // Memory with the list open (after a collection, so it is what stays).
  line('memory', [], { count, ...(await pageMemory(context, page)) });

  // Search: queries whose counts differ, so each one visibly changes the list.
  const queries = ['vpn', 'printer', 'outage', 'password', 'wifi', 'disk', 'email', 'badge'];
  const search = page.getByLabel('Search');
  await search.fill('');
  let lastCount = await page.locator('.result-count').textContent();
  const searchFrom = await page.evaluate(() => performance.now());
  const tasks = await recordTasks(browser, page);
  for (let i = 0; i < Number(opt.searches); i++) {
    const q = i % 2 ? '' : queries[(i / 2) % queries.length];
    const before = await page.evaluate(() => window.__bench.searched.length);
    // Key by key, as a person types (clearing is one keystroke).
    if (q) await search.pressSequentially(q, { delay: 40 });
    else await search.fill('');
    const changed = await until(async () => (await page.locator('.result-count').textContent()) !== lastCount || (await page.evaluate(() => window.__bench.searched.length)) > before, { timeout: 30_000, message: `search ${q}` }).catch(() => false);
    lastCount = await page.locator('.result-count').textContent();
    if (!changed) process.stderr.write(`search ${JSON.stringify(q)} did not change the count\n`);
  }
  const searched = (await page.evaluate(() => window.__bench.searched)).map((t) => t - SEARCH_DELAY_MS);
  const ran = await tasks.stop();
  const blocked = await page.evaluate((from) => window.__bench.longTasks.filter((t) => t.start >= from).map((t) => t.duration), searchFrom);
  line('search', searched, {
    count, longest_task_ms: r2(Math.max(...ran)), task_p99_ms: r2(quantile(ran, 0.99)), tasks: ran.length, long_tasks: blocked.length,
    note: `latency after the ${SEARCH_DELAY_MS} ms typing pause; longest_task_ms and task_p99_ms: main-thread tasks while typing and searching, from a Chromium trace; long_tasks: how many took over 50 ms`,
  });

  // Create: through the form, as a person does; the page shows once IndexedDB has committed.
  const created = [];
  for (let i = 0; i < Number(opt.creates); i++) {
    await page.getByRole('link', { name: 'New incident' }).click();
    await page.getByLabel('Title').fill(`Bench incident ${i}: badge reader offline at gate ${i % 7}`);
    await page.getByLabel('Caller').fill('Dana Reyes');
    await page.getByLabel('Impact').selectOption('2');
    await page.getByLabel('Urgency').selectOption('2');
    await page.getByRole('button', { name: 'Create incident' }).click();
    await until(() => page.evaluate((n) => window.__bench.created.length > n, i), { timeout: 30_000, message: 'the new incident' });
  }
  created.push(...(await page.evaluate(() => window.__bench.created)));
  line('create', created, { count });
} finally {
  await browser.close();
  await relay.dispose();
}
