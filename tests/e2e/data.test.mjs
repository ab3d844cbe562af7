// What the team learns and takes away: the dashboard's numbers for a seeded workspace equal those
// counted here, independently, from the same generated data; a dashboard row leads into the list
// it counts; and the list exported as CSV imports into a second workspace, once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Relay } from './support/relay.mjs';
import { seedRelay } from './support/seed.mjs';
import { launchBrowser, watchErrors } from './support/browser.mjs';
import { openApp, until } from './support/app.mjs';
import { generate } from '../../bench/data/generate.mjs';

const COUNT = 120;
const SEED = 23;
let first, second, third, browser, dir;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outpost-data-'));
  first = await Relay.start({ dev: true });
  second = await Relay.start({ dev: true });
  third = await Relay.start({ dev: true });
  browser = await launchBrowser();
  await seedRelay(first, COUNT, SEED);
});
after(async () => {
  await browser?.close();
  await first?.dispose();
  await second?.dispose();
  await third?.dispose();
  await rm(dir, { recursive: true, force: true });
});

// ---- The same numbers, counted here from the generated data (not from the app's code). ----

const MATRIX = [[1, 2, 3], [2, 3, 4], [3, 4, 5]]; // ITIL: impact (row) × urgency (column)
const PRIORITY = ['P1 Critical', 'P2 High', 'P3 Moderate', 'P4 Low', 'P5 Planning'];
const DAY = 86_400_000;

function facts(incident) {
  let state = 'new';
  let ack = null;
  let resolved = null;
  for (const e of incident.events) {
    if (e.type === 'start_work' || e.type === 'put_on_hold') {
      ack ??= e.at;
      state = e.type === 'start_work' ? 'in_progress' : 'on_hold';
    } else if (e.type === 'resolve') {
      state = 'resolved';
      resolved = e.at;
    } else if (e.type === 'close') {
      state = 'closed';
    }
  }
  return {
    priority: MATRIX[incident.impact - 1][incident.urgency - 1],
    state,
    reported: incident.at,
    ack,
    resolved: state === 'resolved' || state === 'closed' ? resolved : null,
    category: incident.category.toLowerCase(),
  };
}

/** Nearest rank: the value at rank ceil(p/100 · n) of the sorted values. */
function rank(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p * sorted.length) / 100))) - 1];
}

/** Outpost's span format: `3d 4h`, `2h 05m`, `45m`. */
function span(ms) {
  const minutes = Math.floor(ms / 60_000);
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor(minutes / 60) % 24, minutes % 60];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (minutes > 0) return `${m}m`;
  return `${Math.floor(ms / 1000)}s`;
}

const times = (values) => `median ${span(rank(values, 50))}, p90 ${span(rank(values, 90))} (${values.length} incidents)`;

const monday = (t) => {
  const d = new Date(t);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return midnight - ((d.getUTCDay() + 6) % 7) * DAY;
};
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const dayLabel = (t) => { const d = new Date(t); return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`; };

/** The whole range the test chooses: every generated event falls inside it. */
const FROM = '2025-08-01';
const TO = '2025-12-31';

function expected() {
  const all = generate(COUNT, SEED).incidents.map(facts);
  const open = all.filter((f) => ['new', 'in_progress', 'on_hold'].includes(f.state));
  const backlog = PRIORITY.map((label, i) => {
    const of = open.filter((f) => f.priority === i + 1);
    const n = (s) => String(of.filter((f) => f.state === s).length);
    return [label, n('new'), n('in_progress'), n('on_hold'), String(of.length)];
  });
  const from = Date.parse(`${FROM}T00:00:00Z`);
  const to = Date.parse(`${TO}T00:00:00Z`) + DAY;
  const weeks = [];
  for (let w = monday(from); w <= monday(to - 1); w += 7 * DAY) {
    const within = (t) => t !== null && t >= w && t < w + 7 * DAY;
    weeks.push([dayLabel(w), String(all.filter((f) => within(f.reported)).length), String(all.filter((f) => within(f.resolved)).length)]);
  }
  const counts = new Map();
  for (const f of all) counts.set(f.category, (counts.get(f.category) ?? 0) + 1);
  const categories = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5).map(([c, n]) => [c, String(n)]);
  return {
    open: open.length,
    mtta: times(all.filter((f) => f.ack !== null).map((f) => f.ack - f.reported)),
    mttr: times(all.filter((f) => f.resolved !== null).map((f) => f.resolved - f.reported)),
    backlog,
    weeks,
    categories,
    p2Open: open.filter((f) => f.priority === 2).length,
  };
}

// ---- Reading the page as a person does. ----

const listed = async (page) => {
  const text = await page.getByRole('status').filter({ hasText: /incidents?$|Loading incidents/ }).textContent();
  const m = text.match(/^(\d+) incidents?$/);
  return m ? Number(m[1]) : -1;
};

async function rows(page, caption) {
  const table = page.getByRole('table', { name: caption });
  return table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
}

async function definition(page, term) {
  return page.locator('dl.dashboard-facts dt', { hasText: term }).locator('xpath=following-sibling::dd[1]').textContent();
}

test('the dashboard counts what an independent count of the seed data counts, and leads into the list', { timeout: 240_000 }, async () => {
  const want = expected();
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await openApp(page, first.url, 'Dee Dashboard');
  await page.goto(new URL('/?state=all', first.url).href);
  await until(async () => (await listed(page)) === COUNT, { timeout: 120_000, message: `all ${COUNT} incidents listed` });

  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  await page.getByLabel('Period').selectOption('range');
  await page.getByLabel('From').fill(FROM);
  await page.getByLabel('To', { exact: true }).fill(TO);
  await until(async () => (await definition(page, 'Time to resolution')) === want.mttr, { message: `MTTR ${want.mttr}` });
  assert.equal(await definition(page, 'Time to first response'), want.mtta);
  assert.match(await definition(page, 'Open now'), new RegExp(`^${want.open} open, \\d+ past their SLA$`));
  assert.deepEqual(await rows(page, 'Open incidents by priority and state'), want.backlog);
  assert.deepEqual(await rows(page, 'Incidents created and resolved per week'), want.weeks);
  const categories = (await rows(page, 'Categories with the most incidents')).map(([c, n]) => [c.toLowerCase(), n]);
  assert.deepEqual(categories, want.categories);

  // A backlog row leads to the list it counts.
  await page.getByRole('table', { name: 'Open incidents by priority and state' }).getByRole('link', { name: 'P2 High' }).click();
  await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  await until(async () => (await listed(page)) === want.p2Open, { message: `${want.p2Open} open P2 incidents listed` });
  assert.equal(await page.getByLabel('Priority').inputValue(), '2');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the list exported as CSV imports into a second workspace, and importing again adds nothing', { timeout: 240_000 }, async () => {
  const page = await browser.newPage({ acceptDownloads: true });
  const errors = watchErrors(page);
  await openApp(page, first.url, 'Dee Dashboard');
  await page.goto(new URL('/?state=all', first.url).href);
  await until(async () => (await listed(page)) === COUNT, { timeout: 120_000, message: `all ${COUNT} incidents listed` });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const file = join(dir, download.suggestedFilename());
  await download.saveAs(file);
  await page.getByRole('status').filter({ hasText: `Exported ${COUNT} incidents.` }).waitFor();
  const csv = await readFile(file, 'utf8');
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines.length, COUNT + 1, 'a header and one line per incident');
  const title = generate(COUNT, SEED).incidents[0].title;
  await page.close();

  const other = await (await browser.newContext({ acceptDownloads: true })).newPage();
  const otherErrors = watchErrors(other);
  await openApp(other, second.url, 'Ivo Importer');
  await other.getByRole('link', { name: 'Import…' }).click();
  await other.getByRole('heading', { name: 'Import incidents', level: 1 }).waitFor();
  await other.getByLabel('CSV file').setInputFiles(file);
  // Outpost's own columns are recognised.
  assert.equal(await other.getByLabel('reference', { exact: true }).inputValue(), 'external_id');
  assert.equal(await other.getByLabel('title', { exact: true }).inputValue(), 'title');
  await other.getByRole('button', { name: 'Check the rows' }).click();
  await other.getByText(`${COUNT} to import, 0 already imported, 0 that cannot be imported.`).waitFor();
  await other.getByRole('button', { name: `Import ${COUNT} incidents` }).click();
  await other.getByText(`Imported ${COUNT} incidents.`).waitFor({ timeout: 120_000 });
  // Checked again at once: everything is already there.
  await other.getByText(`0 to import, ${COUNT} already imported, 0 that cannot be imported.`).waitFor();

  await other.getByRole('link', { name: 'See them in the list' }).click();
  await until(async () => (await listed(other)) === COUNT, { message: `${COUNT} imported incidents listed` });
  await other.getByLabel('Search').fill(title);
  await other.getByRole('link', { name: new RegExp(title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }).first().waitFor();
  assert.deepEqual(errors, []);
  assert.deepEqual(otherErrors, []);
});

/** Every incident the list shows, exported as CSV, with the lines in document-id order. */
async function csvOf(page) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const file = join(dir, `${Date.now()}-${download.suggestedFilename()}`);
  await download.saveAs(file);
  const [header, ...rows] = (await readFile(file, 'utf8')).trimEnd().split('\r\n');
  return [header, ...rows.sort()];
}

test('the whole workspace exported from one relay restores into an empty one with nothing lost', { timeout: 300_000 }, async () => {
  const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  const errors = watchErrors(page);
  await openApp(page, first.url, 'Ada Backup');
  await page.goto(new URL('/?state=all', first.url).href);
  await until(async () => (await listed(page)) === COUNT, { timeout: 120_000, message: `all ${COUNT} incidents listed` });
  const before = await csvOf(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export the whole workspace' }).click()]);
  const file = join(dir, download.suggestedFilename());
  await download.saveAs(file);
  await page.getByRole('status').filter({ hasText: `Exported ${COUNT} documents.` }).waitFor();

  const restorer = await (await browser.newContext({ acceptDownloads: true })).newPage();
  const restorerErrors = watchErrors(restorer);
  await openApp(restorer, third.url, 'Ada Backup');
  await restorer.getByRole('link', { name: 'Settings' }).click();
  await restorer.getByLabel('Restore a workspace export').setInputFiles(file);
  await restorer.getByText(new RegExp(`: ${COUNT} incidents, 0 articles\\.$`)).waitFor();
  await restorer.getByRole('button', { name: `Restore ${COUNT} documents` }).click();
  await restorer.getByRole('status').filter({ hasText: `Restored ${COUNT} documents.` }).waitFor({ timeout: 120_000 });
  await until(async () => (await restorer.locator('.sync-label').textContent()) === 'Up to date', { timeout: 120_000, message: 'the restored documents on the relay' });

  // A new device of the restored workspace pulls them all from its relay: the same list.
  const fresh = await (await browser.newContext({ acceptDownloads: true })).newPage();
  const freshErrors = watchErrors(fresh);
  await openApp(fresh, third.url, 'Nia New');
  await fresh.goto(new URL('/?state=all', third.url).href);
  await until(async () => (await listed(fresh)) === COUNT, { timeout: 120_000, message: `all ${COUNT} restored incidents on a new device` });
  assert.deepEqual(await csvOf(fresh), before, 'every incident, its id, reference, state and times');
  assert.deepEqual([...errors, ...restorerErrors, ...freshErrors], []);
});
