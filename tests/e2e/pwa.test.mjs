// The installed app on a phone with no signal: once loaded, the release build starts, lists
// incidents, opens a deep link and takes new work with the relay gone, and syncs when it returns.
// Chromium finds it installable; a newly deployed build is offered by a banner and loaded only
// when the person accepts; a build without the service-worker flag registers nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Relay } from './support/relay.mjs';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, guardContext, launchBrowser, phoneContext, watchErrors } from './support/browser.mjs';
import { openApp, logIncident, syncStatus as status, until, withoutOfflineNoise as offlineNoise } from './support/app.mjs';
import { audit } from './support/a11y.mjs';

let browser;
const cleanup = [];
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  for (const undo of cleanup.reverse()) await undo();
});

/** A relay of its own for one test, stopped at the end. */
async function startRelay(options) {
  const relay = await Relay.start(options);
  cleanup.push(() => relay.dispose());
  return relay;
}

/** A copy of the release build that a test may change. It keeps the files' times, as a deploy
 *  does: the relay's Last-Modified has one-second resolution, so a file rewritten within the
 *  second it was copied would be answered "304 Not Modified" to the browser's update check. */
async function distCopy() {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-dist-'));
  await cp(process.env.OUTPOST_DIST, dir, { recursive: true, preserveTimestamps: true });
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Waits until a service worker is active and controls the page. */
async function controlled(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await until(() => page.evaluate(() => navigator.serviceWorker.controller !== null), {
    timeout: 30_000,
    message: 'the service worker to control the page',
  });
}

const appVersion = (page) => page.getByTestId('app-version').textContent();

test('with the relay gone, the app starts, lists, opens deep links and keeps new work', { timeout: 240_000 }, async () => {
  const relay = await startRelay({ dev: true });
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await openApp(page, relay.url, 'Olu Offline');
  await controlled(page);
  await until(async () => (await status(page)) === 'Up to date', { timeout: 60_000, message: 'sync up to date' });
  const deepLink = await logIncident(page, { title: 'Pump room flooding', impact: '1', urgency: '1' });
  await until(async () => (await page.getByText(/not yet synced/).count()) === 0, { timeout: 30_000, message: 'incident on the relay' });

  await relay.stop();

  // The shell and the list, from the device alone.
  const list = await page.goto(relay.url);
  assert.ok(list.fromServiceWorker(), 'the app shell came from the service worker');
  await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  await page.getByRole('link', { name: /Pump room flooding/ }).waitFor();
  await until(async () => (await status(page)) === 'Offline', { timeout: 30_000, message: 'sync shows offline' });

  // A deep link to an incident logged before the relay went away.
  const deep = await page.goto(deepLink);
  assert.ok(deep.fromServiceWorker(), 'the deep link was answered by the service worker');
  await page.getByRole('heading', { level: 1, name: /Pump room flooding/ }).waitFor();

  // New work with no server, still there after another reload.
  const offlineUrl = await logIncident(page, { title: 'Logged with the relay down' });
  await page.reload();
  await page.getByRole('heading', { level: 1, name: /Logged with the relay down/ }).waitFor();
  await page.getByRole('link', { name: 'Incidents', exact: true }).click();
  await page.getByRole('link', { name: /Logged with the relay down/ }).waitFor();
  await page.getByText(/not yet synced/).first().waitFor();

  // The relay returns: the app catches up by itself.
  await relay.restart();
  await until(async () => (await status(page)) === 'Up to date', { timeout: 90_000, message: 'sync up to date again' });
  await until(async () => (await page.getByText(/not yet synced/).count()) === 0, { timeout: 30_000, message: 'nothing left to send' });
  // The relay has it: a fresh device (no service worker, no IndexedDB) sees it.
  const other = await phoneContext(browser);
  const fresh = await other.newPage();
  await openApp(fresh, relay.url, 'Second Phone');
  await fresh.getByRole('link', { name: /Logged with the relay down/ }).waitFor({ timeout: 60_000 });
  assert.ok(offlineUrl.includes('/incidents/'));
  assert.deepEqual(offlineNoise(errors), []);
  await other.close();
  await context.close();
});

test('Chromium finds the app installable', { timeout: 120_000 }, async () => {
  const relay = await startRelay();
  // Not a throwaway (incognito) context: Chromium never offers to install from one.
  const profile = await mkdtemp(join(tmpdir(), 'outpost-profile-'));
  cleanup.push(() => rm(profile, { recursive: true, force: true }));
  const context = guardContext(await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  }));
  cleanup.push(() => context.close());
  const page = await context.newPage();
  const errors = watchErrors(page);
  await openApp(page, relay.url);
  await controlled(page);

  const cdp = await context.newCDPSession(page);
  let installability = null;
  await until(
    async () => {
      ({ installabilityErrors: installability } = await cdp.send('Page.getInstallabilityErrors'));
      return installability.length === 0;
    },
    { timeout: 30_000, message: 'no installability errors' },
  ).catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(installability)}`);
  });

  const { url, errors: manifestErrors, data } = await cdp.send('Page.getAppManifest');
  assert.equal(new URL(url).pathname, '/manifest.webmanifest');
  assert.deepEqual(manifestErrors, []);
  const manifest = JSON.parse(data);
  assert.equal(manifest.name, 'Outpost');
  assert.equal(manifest.display, 'standalone');
  for (const key of ['id', 'start_url', 'scope', 'short_name', 'theme_color', 'background_color']) {
    assert.ok(manifest[key], `manifest has ${key}`);
  }
  const response = await page.request.get(url);
  assert.match(response.headers()['content-type'], /^application\/manifest\+json/);

  // Every PNG icon is a real PNG of the size it claims; one is maskable.
  const pngs = manifest.icons.filter((icon) => icon.type === 'image/png');
  assert.deepEqual(new Set(pngs.map((icon) => icon.sizes)), new Set(['192x192', '512x512']));
  assert.ok(pngs.some((icon) => icon.purpose === 'maskable' && icon.sizes === '512x512'), 'a maskable 512 px icon');
  for (const icon of pngs) {
    const body = await (await page.request.get(new URL(icon.src, url).href)).body();
    assert.equal(body.subarray(1, 4).toString(), 'PNG', `${icon.src} is a PNG`);
    assert.equal(`${body.readUInt32BE(16)}x${body.readUInt32BE(20)}`, icon.sizes, `${icon.src} size`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('a new build is offered by a banner and loaded only when the person accepts it', { timeout: 120_000 }, async () => {
  const dist = await distCopy();
  const relay = await startRelay({ dist });
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await openApp(page, relay.url);
  await controlled(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  const first = await until(async () => (await appVersion(page)).match(/^([0-9a-f]{16}), kept on this device/)?.[1], {
    message: 'the app version in Settings',
  });
  const swPath = join(dist, 'sw.js');
  const sw = await readFile(swPath, 'utf8');
  assert.ok(sw.includes(`const VERSION = "${first}";`), 'Settings shows the version of the sw.js served');

  // The person is typing when a new build is deployed.
  await page.evaluate(() => {
    window.outpostPageBeforeUpdate = true;
  });
  await page.getByLabel('Team').fill('Half-typed team na');

  const second = 'e2e0second0build';
  await writeFile(swPath, sw.replace(`const VERSION = "${first}";`, `const VERSION = "${second}";`));
  const indexPath = join(dist, 'index.html');
  const index = await readFile(indexPath, 'utf8');
  await writeFile(indexPath, index.replace('</head>', '<meta name="outpost-e2e-build" content="second" /></head>'));
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    await registration.update();
  });
  // The browser installs the new version; it waits (nothing activates it behind the page's back).
  const workers = () =>
    page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration();
      return JSON.stringify({ installing: r.installing?.state, waiting: r.waiting?.state, active: r.active?.state });
    });
  await until(async () => JSON.parse(await workers()).waiting === 'installed', { timeout: 30_000, message: 'a waiting worker' }).catch(async (e) => {
    throw new Error(`${e.message}; workers: ${await workers()}`);
  });

  const banner = page.getByRole('status').filter({ hasText: 'A new version is available' });
  await banner.waitFor({ timeout: 30_000 });
  const button = banner.getByRole('button', { name: 'Update now' });
  // Nothing reloads by itself: the same page, with what was typed, is still there.
  assert.equal(await page.evaluate(() => window.outpostPageBeforeUpdate), true);
  assert.equal(await page.getByLabel('Team').inputValue(), 'Half-typed team na');
  assert.deepEqual(await audit(page), [], 'the banner fits a 360 px screen');

  // Accepted from the keyboard.
  await button.focus();
  await page.keyboard.press('Enter');
  await until(
    () => page.evaluate(() => !window.outpostPageBeforeUpdate && document.querySelector('meta[name="outpost-e2e-build"]') !== null),
    { timeout: 30_000, message: 'the page to reload into the new build' },
  );
  await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  await until(async () => (await appVersion(page)).startsWith(`${second}, kept`), { message: 'the new version in Settings' });
  assert.deepEqual(await page.evaluate(() => caches.keys()), [`outpost-${second}`], 'the old version’s cache is gone');
  assert.equal(await page.getByText('A new version is available').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a build without the service-worker flag registers none, and removes one left behind', { timeout: 60_000 }, async () => {
  const dist = await distCopy();
  const indexPath = join(dist, 'index.html');
  const index = await readFile(indexPath, 'utf8');
  assert.match(index, /<meta name="outpost-sw"[^>]*>/, 'the release build carries the flag');
  await writeFile(indexPath, index.replace(/\s*<meta name="outpost-sw"[^>]*>/, ''));
  const relay = await startRelay({ dist });
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const registrations = () => page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length);
  await openApp(page, relay.url);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByText('Development build: it is not kept on this device for offline use.').waitFor();
  assert.equal(await registrations(), 0);

  // A worker left by an earlier release build on the same address is removed at the next start.
  await page.evaluate(async () => {
    await navigator.serviceWorker.register('/sw.js');
    await navigator.serviceWorker.ready;
  });
  assert.equal(await registrations(), 1);
  await page.reload();
  await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  await until(async () => (await registrations()) === 0, { message: 'the leftover worker to be unregistered' });
  await context.close();
});

test('Settings says whether storage is persistent and how much is used', { timeout: 60_000 }, async () => {
  const relay = await startRelay();
  const context = await phoneContext(browser);
  const page = await context.newPage();
  await openApp(page, relay.url);
  await page.getByRole('link', { name: 'Settings' }).click();
  const facts = page.getByRole('group', { name: 'Offline use' });
  await facts.getByText(/^(Persistent|Not persistent): /).waitFor();
  await facts.getByText(/^[\d.]+ (bytes|kB|MB|GB) used of [\d.]+ (bytes|kB|MB|GB|TB) available to Outpost$/).waitFor();
  await context.close();
});
