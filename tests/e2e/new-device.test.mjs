// A technician signs in on a new phone: it pulls every incident the team has from the relay, the
// tab is reloaded half-way through, and the device still ends with every incident stored, listed
// and counted as synced. More incidents than the app keeps in memory (300), so documents are
// saved, dropped from memory and acknowledged afterwards, as on a real team's device.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from './support/relay.mjs';
import { seedRelay } from './support/seed.mjs';
import { launchBrowser, watchErrors } from './support/browser.mjs';
import { openApp, until } from './support/app.mjs';

const COUNT = 600;
let relay, browser;

before(async () => {
  relay = await Relay.start({ dev: true });
  browser = await launchBrowser();
  await seedRelay(relay, COUNT, 7);
});
after(async () => {
  await browser?.close();
  await relay?.dispose();
});

const listed = async (page) => {
  const text = await page.getByRole('status').filter({ hasText: /incidents?$|Loading incidents/ }).textContent();
  const m = text.match(/^(\d+) incidents?$/);
  return m ? Number(m[1]) : 0;
};
const syncState = (page) => page.getByRole('link', { name: /^Sync:/ }).textContent();

/** Every incident listed, sync up to date, and no change counted as not yet synced. */
async function settled(page) {
  let seen;
  try {
    await until(async () => {
      seen = `${await listed(page)} listed, "${await syncState(page)}"`;
      return seen === `${COUNT} listed, "Sync: Up to date"`;
    }, { timeout: 240_000, message: 'every incident listed and synced' });
  } catch (e) {
    throw new Error(`${e.message}; last seen: ${seen}`);
  }
}

test('a new device pulls every incident, survives a reload mid-pull and ends fully synced', { timeout: 300_000 }, async () => {
  const context = await browser.newContext();
  // A slow link, made deterministic: the page under test gets only the relay's first HELD_AFTER
  // messages and then nothing more until the reload, so the reload is sure to come mid-pull
  // however fast the machine. The first page load (where the person gives their name) hears
  // nothing from the relay at all: on a fast machine it could otherwise take the allowance and
  // be navigated away before saving any of it. After the reload everything passes untouched.
  const HELD_AFTER = 150;
  let armed = false;
  let gated = true;
  let delivered = 0;
  let held = 0;
  await context.routeWebSocket(/\/sync/, (ws) => {
    const server = ws.connectToServer();
    const silent = !armed;
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      if (silent) return;
      if (gated && delivered >= HELD_AFTER) {
        held += 1;
        return;
      }
      delivered += 1;
      ws.send(m);
    });
  });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await openApp(page, relay.url, 'New Phone');
  armed = true;
  await page.goto(new URL('/?state=all', relay.url).href);

  // Reload while the pull is under way: batches in flight are cut off.
  let seen;
  try {
    await until(async () => {
      const count = await listed(page);
      seen = `${delivered} delivered, ${held} held, ${count} listed`;
      return held > 0 && count >= 20;
    }, { timeout: 120_000, message: 'the pull to start and stall' });
  } catch (e) {
    throw new Error(`${e.message}; last seen: ${seen}`);
  }
  const before = await listed(page);
  assert.ok(before < COUNT, `the reload must come mid-pull (already ${before})`);
  gated = false;
  await page.reload();

  await settled(page);
  // What is listed is stored: a reload lists it all again, with nothing left to send.
  await page.reload();
  await settled(page);
  assert.deepEqual(errors, []);
  await context.close();
});
