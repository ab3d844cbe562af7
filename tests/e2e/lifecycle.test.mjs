// Pages come and go faster than their work: a person types a search and taps a row before it
// runs, leaves a page while it loads, saves or scans, and navigates all through a pull. None of
// it may crash the app (the guard in support/browser.mjs fails the test on any uncaught error or
// panic), and nothing is lost: the device ends with every incident and every change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from './support/relay.mjs';
import { seedRelay } from './support/seed.mjs';
import { launchBrowser, phoneContext } from './support/browser.mjs';
import { openApp, logIncident, until } from './support/app.mjs';

const COUNT = 1500;
let relay, browser;

before(async () => {
  relay = await Relay.start({ dev: true });
  browser = await launchBrowser();
  await seedRelay(relay, COUNT, 11);
});
after(async () => {
  await browser?.close();
  await relay?.dispose();
});

const count = async (page) => {
  const text = (await page.locator('.result-count').textContent()) ?? '';
  const m = text.match(/^(\d+) incidents?$/);
  return m ? Number(m[1]) : -1;
};

test('a search cleared and a row tapped at once, again and again, never crashes', { timeout: 120_000 }, async () => {
  // Its own relay (no dev token): only these two incidents, so one search hides one of them.
  const own = await Relay.start();
  try {
    const context = await phoneContext(browser);
    const page = await context.newPage();
    await openApp(page, own.url);
    await logIncident(page, { title: 'Printer on fire in room 4' });
    await logIncident(page, { title: 'VPN drops every hour' });
    for (let i = 0; i < 12; i++) {
      await page.getByRole('link', { name: 'Incidents', exact: true }).click();
      await until(async () => (await count(page)) === 2, { message: 'both incidents listed' });
      const search = page.getByLabel('Search');
      await search.fill('printer');
      await until(async () => (await count(page)) === 1, { message: 'the search hides one' });
      // Clear the box and tap the remaining row straight away, before the typing pause ends.
      await search.fill('');
      await page.getByRole('link', { name: /Printer on fire/ }).click();
      await page.getByRole('heading', { level: 1, name: /Printer on fire/ }).waitFor();
    }
    await context.close();
  } finally {
    await own.dispose();
  }
});

test('leaving pages in the middle of their work, all through a pull, loses nothing and never crashes', { timeout: 300_000 }, async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  await openApp(page, relay.url, 'Lee Quick');
  await page.goto(new URL('/?state=all', relay.url).href);
  const url = await logIncident(page, { title: 'Badge reader offline at gate 3' });
  const nav = (name) => page.getByRole('link', { name, exact: true }).click();
  let notes = 0;
  // Every move is inside the app (links, Back), as a person's taps are: a full reload would end
  // the page's saves with it, which no app can survive.
  for (let i = 0; i < 25; i++) {
    // Saving, left before the save answers.
    await page.getByLabel('Work note', { exact: true }).fill(`Checked the controller, pass ${i}`);
    await page.getByRole('button', { name: 'Add work note' }).click();
    notes += 1;
    await nav('Incidents');
    // A search scan over every incident, left before it ends.
    await page.getByLabel('Search').pressSequentially(['vpn', 'printer', 'disk'][i % 3], { delay: 5 });
    await nav('Settings'); // the storage estimate is still being read when the page goes
    await nav('Incidents');
    await page.getByLabel('State').selectOption(i % 2 ? 'all' : 'open'); // a list render ...
    await nav('New incident'); // ... left at once
    // Back to the incident through the history: /, /settings, / and /incidents/new lie between
    // (sometimes one fewer: leaving the list within milliseconds of arriving can replace its
    // entry instead of adding one). Chromium's Navigation API says where each step lands, so a
    // step is taken only once the last has arrived, however slow a step is under the pull.
    const incident = page.getByRole('heading', { level: 1, name: /Badge reader offline/ });
    const path = new URL(url).pathname;
    const where = () => page.evaluate(() => ({ at: navigation.currentEntry.index, urls: navigation.entries().map((e) => e.url) }));
    let history = await where();
    const target = history.urls.findLastIndex((u, n) => n <= history.at && new URL(u).pathname === path);
    assert.ok(target >= 0 && history.at - target <= 6, `pass ${i}: the incident is not among the last pages: ${history.urls.slice(0, history.at + 1).join(' ')}`);
    while (history.at > target) {
      const from = history.at;
      await page.goBack();
      await until(async () => (history = await where()).at < from, { timeout: 30_000, message: `pass ${i}: Back from ${history.urls[from]} to arrive` });
    }
    assert.ok(page.url().endsWith(path), `pass ${i}: Back reached ${page.url()}, not the incident`);
    await incident.waitFor().catch(async (e) => {
      const shown = await page.locator('main').innerText().catch(() => '(unreadable)');
      throw new Error(`pass ${i}: the incident's heading did not show at ${page.url()}; the page shows: ${shown.slice(0, 300)}\n${e.message}`);
    });
  }
  // Everything arrived and every note is kept, on screen and after a reload.
  await nav('Incidents');
  await page.getByLabel('State').selectOption('all');
  await until(async () => (await count(page)) === COUNT + 1, { timeout: 240_000, message: 'every incident listed' });
  await until(async () => (await page.getByRole('link', { name: /^Sync:/ }).textContent()) === 'Sync: Up to date', { timeout: 240_000, message: 'up to date' });
  await page.goto(url);
  await page.getByRole('heading', { level: 1, name: /Badge reader offline/ }).waitFor();
  const kept = page.locator('.note-work_note .note-body');
  let seen;
  await until(async () => (seen = await kept.count()) === notes, { message: `all ${notes} work notes` }).catch((e) => {
    throw new Error(`${e.message}: ${seen} shown`);
  });
  const bodies = await kept.allTextContents();
  for (let i = 0; i < notes; i++) assert.ok(bodies.includes(`Checked the controller, pass ${i}`), `note ${i} is kept`);
  await context.close();
});
