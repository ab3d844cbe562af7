// The README's run command serves the app shell: the relay serves the release build and the app
// mounts and names itself, on a phone-sized screen, with no errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from './support/relay.mjs';
import { launchBrowser, phoneContext, watchErrors } from './support/browser.mjs';

let relay, browser;
before(async () => {
  relay = await Relay.start();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.dispose();
});

test('the relay serves the app shell and it mounts', { timeout: 60_000 }, async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  const response = await page.goto(relay.url);
  assert.equal(response.status(), 200);
  await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Outpost' }).waitFor();
  assert.equal(await page.title(), 'Incidents · Outpost');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a deep link is answered by the app, which says the incident is not here', { timeout: 60_000 }, async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const response = await page.goto(new URL('/incidents/p3u5PhN9wrNpsGCwfkeef2LzF9', relay.url).href);
  assert.equal(response.status(), 200);
  await page.getByRole('link', { name: 'Outpost' }).waitFor();
  await page.getByText('This incident is not on this device.').waitFor();
  await context.close();
});
