// Usable on a 360 px phone, from the keyboard alone, with labels and names a screen reader can
// announce, in light and dark.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from './support/relay.mjs';
import { launchBrowser, phoneContext } from './support/browser.mjs';
import { openApp, logIncident, until } from './support/app.mjs';
import { audit } from './support/a11y.mjs';

let relay, browser;
before(async () => {
  relay = await Relay.start();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.dispose();
});

test('every page fits a 360 px screen and names every control', { timeout: 90_000 }, async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  await openApp(page, relay.url);
  assert.deepEqual(await audit(page), [], 'list');
  await page.getByRole('link', { name: 'New incident' }).click();
  await page.getByRole('heading', { name: 'New incident' }).waitFor();
  assert.deepEqual(await audit(page), [], 'new incident form');
  await logIncident(page, { title: 'A very long title that a technician typed on a small phone keyboard without spaces_____________x', impact: '1' });
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  assert.deepEqual(await audit(page), [], 'incident page');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  assert.deepEqual(await audit(page), [], 'settings');
  await context.close();
});

test('a person can log and start an incident with the keyboard alone', { timeout: 90_000 }, async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  await openApp(page, relay.url, 'Kim Keys');
  const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() || document.activeElement?.id || '');
  async function tabTo(predicate, what) {
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      if (predicate(await focused())) return;
    }
    throw new Error(`could not reach ${what} with Tab`);
  }
  await tabTo((f) => f === 'New incident', 'the New incident link');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'New incident' }).waitFor();
  await tabTo((f) => f === 'title', 'the title field');
  await page.keyboard.type('Keyboard-only incident');
  await tabTo((f) => f === 'caller', 'the caller field');
  await page.keyboard.type('Lee');
  await page.keyboard.press('Enter'); // submits the form
  await page.getByRole('heading', { level: 1, name: /Keyboard-only incident/ }).waitFor();
  await tabTo((f) => f === 'Start work', 'the Start work button');
  await page.keyboard.press('Space');
  await page.locator('.badge.state', { hasText: 'In Progress' }).waitFor();
  await context.close();
});

test('dark and light themes follow the device unless chosen in settings', { timeout: 60_000 }, async () => {
  const context = await phoneContext(browser, { colorScheme: 'dark' });
  const page = await context.newPage();
  await openApp(page, relay.url);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const luminance = (rgb) => {
    const [r, g, b] = rgb.match(/\d+/g).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  };
  assert.ok(luminance(await background()) < 0.2, `dark device, dark app: ${await background()}`);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Theme').selectOption('light');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await until(async () => luminance(await background()) > 0.8, { message: 'light theme applied' });
  await page.reload();
  await until(async () => luminance(await background()) > 0.8, { message: 'light theme kept after reload' });
  await context.close();
});
