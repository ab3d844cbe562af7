// Outpost in the browser, measured in headless Chromium against the release build served by the
// real relay (--dev, 127.0.0.1, ephemeral port). Prints one JSON line per result:
//   browser-pull  a new browser pulls N incidents from the relay into IndexedDB (app start included)
//   cold-start    reload with N stored: navigation start → list on screen with its count (and when
//                 the wasm module had started, to tell start-up from loading the list), in every
//                 ordinary case: right after the pull, short visits 3 s apart, after the renderer
//                 crashed mid-write, and once the index is packed; worst_case_ms is the worst')
//                 case's median
//   create        "Create incident" click → the incident's page, after its IndexedDB commit (p95)
//   search        typing a query key by key: from the end of the typing pause to the list showing
//                 the result, and the longest task (frame blocked) while typing and searching
//   memory        JS heap + wasm memory with N stored and the list open
//   dashboard     the Dashboard link clicked → its figures on screen over N incidents, and each
//                 change of period → the figures redrawn; the longest main-thread task throughout
//   csv-export    "Export CSV" clicked with every incident listed → the file handed to the browser
// Timings are taken inside the page (performance.now(), MutationObserver), not by polling.
//
//   node bench/outpost/browser.mjs --data incidents.json --count 10000 [--reps 5] [--creates 50]
// Needs OUTPOST_RELAY, OUTPOST_DIST and OUTPOST_BENCH (the outpost-bench binary); bench/run.mjs sets them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { Relay } from '../../tests/e2e/support/relay.mjs';
import { launchBrowser } from '../../tests/e2e/support/launch.mjs';
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
  document.addEventListener('click', (e) => {
    if (e.target.closest('a')?.getAttribute('href') === '/dashboard') { b.dashAt = performance.now(); b.dashSeen = null; }
    if (e.target.closest('button')?.textContent.trim() === 'Export CSV') b.exportAt = performance.now();
  }, true);
  // The export hands its file over by clicking a download link: that moment ends the export.
  const click = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function () {
    if (this.download && b.exportAt !== undefined) {
      (b.exported ??= []).push(performance.now() - b.exportAt);
      b.exportAt = undefined;
    }
    return click.call(this);
  };
  document.addEventListener('change', (e) => {
    if (['d-period', 'd-from', 'd-to'].includes(e.target.id)) { b.dashAt = performance.now(); b.dashSeen = document.querySelector('#d-headline + dl')?.textContent; }
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
    const figures = document.querySelector('#d-headline + dl')?.textContent;
    if (b.dashAt !== undefined && figures && figures !== b.dashSeen) {
      (b.dashboard ??= []).push(now - b.dashAt);
      b.dashAt = undefined;
    }
    if (b.typedAt !== undefined && count !== b.countBefore) {
      b.searched.push(now - b.typedAt);
      b.typedAt = undefined;
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

const relay = await Relay.start({ dev: true });
const browser = await launchBrowser({ guard: false }); // a benchmark, not a test
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

  // One cold start: reload (or open `fresh` instead), the list on screen with `expected`
  // incidents, then the longest main-thread task in the next 3 s (search texts loading, sync
  // starting), which is how long a tap could wait.
  async function coldStart(target, expected, { navigate = (p) => p.reload() } = {}) {
    await navigate(target);
    const ready = await until(() => target.evaluate(() => window.__bench.listReady), { timeout: 120_000, message: 'the list' });
    const shown = await target.evaluate(() => window.__bench.listCount);
    if (shown !== `${expected} incidents`) throw new Error(`the list said ${shown}, not ${expected} incidents`);
    const started = await target.evaluate(() => window.__bench.started);
    await target.waitForFunction((at) => performance.now() > at + 3000, ready, { polling: 250 });
    const blocked = await target.evaluate((at) => Math.max(0, ...window.__bench.longTasks.filter((t) => t.start >= at && t.start < at + 3000).map((t) => t.duration)), ready);
    return { ready, started, blocked };
  }
  const cases = { after_pull: [], short_visits: [], after_crash: [], settled: [] };
  // Right after the pull reports "Up to date", as a person who closes the app at once would.
  cases.after_pull.push(await coldStart(page, count));
  // Short visits: each reload 3 s after the last list showed, so nothing idle ever runs.
  for (let i = 1; i < Number(opt.reps); i++) cases.short_visits.push(await coldStart(page, count));

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

  // Export: every incident listed (the search box cleared above), as CSV.
  await page.goto(new URL('/?state=all', relay.url).href);
  await until(async () => (await page.locator('.result-count').textContent()) === `${count} incidents`, { timeout: 120_000, message: 'the whole list' });
  for (let i = 0; i < Number(opt.reps); i++) {
    const before = await page.evaluate(() => (window.__bench.exported ?? []).length);
    await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    await until(() => page.evaluate((n) => (window.__bench.exported ?? []).length > n, before), { timeout: 60_000, message: 'the export' });
  }
  line('csv-export', await page.evaluate(() => window.__bench.exported), { count, note: 'click → rows built, CSV written and handed to the browser as a download' });

  // Dashboard: opened from the list, then redrawn for each period in turn.
  const dashTasks = await recordTasks(browser, page);
  const dashFrom = await page.evaluate(() => performance.now());
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await until(() => page.evaluate(() => (window.__bench.dashboard ?? []).length === 1), { timeout: 60_000, message: 'the dashboard' });
  // Then chosen ranges over the dataset's months (its incidents are from 2025), each one
  // different, so every redraw counts other incidents.
  const redrawn = async (act) => {
    const before = await page.evaluate(() => window.__bench.dashboard.length);
    await act();
    await until(() => page.evaluate((n) => window.__bench.dashboard.length > n, before), { timeout: 60_000, message: 'the dashboard redrawn' });
  };
  await page.getByLabel('Period').selectOption('range');
  await page.getByLabel('To', { exact: true }).fill('2025-12-31');
  await redrawn(() => page.getByLabel('From').fill('2025-06-01'));
  for (let i = 0; i < Number(opt.reps); i++) {
    const from = ['2025-09-01', '2025-09-15', '2025-10-01', '2025-10-15', '2025-11-01'][i % 5];
    await redrawn(() => page.getByLabel('From').fill(from));
  }
  const dashRan = await dashTasks.stop();
  const dashBlocked = await page.evaluate((from) => window.__bench.longTasks.filter((t) => t.start >= from).map((t) => t.duration), dashFrom);
  const drawn = await page.evaluate(() => window.__bench.dashboard);
  line('dashboard', drawn, {
    count, first_ms: r2(drawn[0]), longest_task_ms: r2(Math.max(...dashRan)), long_tasks: dashBlocked.length,
    note: 'first_ms: the Dashboard link clicked → the figures on screen (last 30 days); the rest: a range over the dataset chosen → the figures redrawn; longest_task_ms: the longest main-thread task throughout, from a Chromium trace',
  });
  await page.getByRole('link', { name: 'Incidents', exact: true }).click();

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

  // The renderer crashes mid-write: a create is clicked and the tab dies before it answers.
  // Whether that write committed or not, the next start must be as quick.
  const creates = Number(opt.creates);
  await page.getByRole('link', { name: 'New incident' }).click();
  await page.getByLabel('Title').fill('Bench incident: crashed while saving');
  await page.getByLabel('Caller').fill('Dana Reyes');
  const cdp = await context.newCDPSession(page);
  await page.getByRole('button', { name: 'Create incident' }).click();
  // Page.crash never answers (the renderer is gone), so wait for the crash, not for the reply.
  const crashed = page.waitForEvent('crash', { timeout: 30_000 });
  cdp.send('Page.crash').catch(() => {});
  await crashed;
  process.stderr.write('cold start: the renderer crashed mid-create\n');
  let after = await context.newPage();
  const listAll = (p) => p.goto(new URL('/?state=all', relay.url).href);
  const stored = await (async () => {
    // Did the crashed write commit? The count tells; either is fine, the start is what counts.
    await listAll(after);
    const text = await until(async () => { const t = await after.locator('.result-count').textContent(); return /^\d+ incidents$/.test(t) && t; }, { timeout: 120_000, message: 'the list after the crash' });
    return Number(text.split(' ')[0]);
  })();
  if (stored !== count + creates && stored !== count + creates + 1) throw new Error(`after the crash the list has ${stored}`);
  await after.close();
  for (let i = 0; i < 3; i++) {
    after = await context.newPage();
    cases.after_crash.push(await coldStart(after, stored, { navigate: listAll }));
    if (i < 2) await after.close();
  }

  // Packed: the app folds the journal once the person has been idle; wait for it (the journal
  // empty in IndexedDB), then start.
  const journalSize = () => after.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('automerge');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const range = IDBKeyRange.bound(['outpost/journal'], ['outpost/journal', '\uffff']);
      const req = open.result.transaction('documents').objectStore('documents').count(range);
      req.onsuccess = () => { resolve(req.result); open.result.close(); };
      req.onerror = () => reject(req.error);
    };
  }));
  process.stderr.write(`cold start: after the crash, ${stored} stored; waiting for the index to be packed\n`);
  await until(async () => (await journalSize()) === 0, { timeout: 180_000, message: 'the index packed' });
  // What packing cost the page it ran in: its longest main-thread task while the person was idle.
  const packingTask = await after.evaluate(() => Math.max(0, ...window.__bench.longTasks.map((t) => t.duration)));
  for (let i = 0; i < 3; i++) cases.settled.push(await coldStart(after, stored));

  const all = Object.values(cases).flat();
  const medians = Object.fromEntries(Object.entries(cases).map(([k, v]) => [`${k}_ms`, r2(median(v.map((c) => c.ready)))]));
  line('cold-start', all.map((c) => c.ready), {
    count,
    worst_case_ms: Math.max(...Object.values(medians)),
    ...medians,
    samples_ms: Object.fromEntries(Object.entries(cases).map(([k, v]) => [k, v.map((c) => r2(c.ready))])),
    wasm_started_median_ms: r2(median(all.map((c) => c.started))),
    longest_task_after_ms: r2(median(all.map((c) => c.blocked))),
    longest_task_after_worst_ms: r2(Math.max(...all.map((c) => c.blocked))),
    packing_longest_task_ms: r2(packingTask),
    note: 'worst_case_ms: the largest of the cases\' medians; longest_task_after_ms: median over every start of the longest main-thread task in the 3 s after the list shows (worst: the largest); packing_longest_task_ms: the longest task of the page that packed the index while idle, packing included',
  });
} finally {
  await browser.close();
  await relay.dispose();
}
