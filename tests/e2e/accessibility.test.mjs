// Usable on a 360 px phone and a desktop, in light and dark, from the keyboard alone, with labels
// and names a screen reader can announce: axe-core on every page, plus the checks axe lacks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AxeBuilder } from '@axe-core/playwright';
import { Relay } from './support/relay.mjs';
import { launchBrowser, phoneContext } from './support/browser.mjs';
import { openApp, logIncident, until } from './support/app.mjs';
import { audit } from './support/a11y.mjs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

let relay, browser;
before(async () => {
  relay = await Relay.start();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.dispose();
});

/** axe-core's violations on the page as it is now (every rule axe runs by default), as lines. */
async function axe(page) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
}

/** Every problem on the page: axe's, and the width and duplicate-id checks it lacks. */
async function problems(page, where) {
  const found = [...(await axe(page)), ...(await audit(page))];
  return found.map((p) => `${where}: ${p}`);
}

const SIZES = {
  phone: (colorScheme) => phoneContext(browser, { colorScheme }),
  desktop: (colorScheme) => browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme }),
};

for (const [size, makeContext] of Object.entries(SIZES)) {
  for (const theme of ['light', 'dark']) {
    test(`axe finds nothing on any page: ${size}, ${theme}`, { timeout: 120_000 }, async () => {
      const context = await makeContext(theme);
      const page = await context.newPage();
      const found = [];
      // First run: the welcome form on an empty list.
      await page.goto(relay.url);
      await page.getByRole('form', { name: 'Welcome to Outpost' }).waitFor();
      found.push(...(await problems(page, 'first run')));
      await openApp(page, relay.url);
      found.push(...(await problems(page, 'empty list')));

      await page.getByRole('link', { name: 'New incident' }).click();
      await page.getByRole('heading', { name: 'New incident' }).waitFor();
      found.push(...(await problems(page, 'new incident form')));
      await page.getByRole('button', { name: 'Create incident' }).click();
      await page.locator('[aria-invalid="true"]').first().waitFor();
      found.push(...(await problems(page, 'new incident form with errors')));

      const url = await logIncident(page, { title: 'A very long title that a technician typed on a small phone keyboard without spaces_____________x', impact: '1', description: 'Core switch down in plant room 2.' });
      found.push(...(await problems(page, 'incident page')));
      await page.getByRole('button', { name: 'Resolve', exact: true }).click();
      await page.getByLabel('Resolution code').waitFor();
      found.push(...(await problems(page, 'incident page, resolving')));

      await page.goto(`${url}/report`);
      await page.getByRole('heading', { level: 1, name: /Post-incident report/ }).waitFor();
      found.push(...(await problems(page, 'report')));

      await page.goto(relay.url);
      await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
      await until(async () => (await page.locator('.incident-list li').count()) > 0, { message: 'the list' });
      found.push(...(await problems(page, 'list')));

      await page.getByRole('link', { name: 'Dashboard' }).click();
      await page.getByRole('heading', { name: 'Open backlog by priority and state' }).waitFor();
      found.push(...(await problems(page, 'dashboard')));
      await page.getByLabel('Period').selectOption('range');
      await page.getByLabel('From').fill('2026-12-31');
      await page.getByLabel('To', { exact: true }).fill('2026-01-01');
      await page.getByRole('alert').filter({ hasText: 'The start date must be on or before the end date.' }).waitFor();
      found.push(...(await problems(page, 'dashboard, a backwards range')));

      await page.goto(new URL('/import', relay.url).href);
      await page.getByLabel('CSV file').setInputFiles({
        name: 'servicenow.csv', mimeType: 'text/csv',
        buffer: Buffer.from('number,short_description,state,priority\r\nINC001,Printer jammed,In Progress,3 - Moderate\r\nINC002,,Parked,9\r\n'),
      });
      await page.getByRole('button', { name: 'Check the rows' }).click();
      await page.getByText('1 to import, 0 already imported, 1 that cannot be imported.').waitFor();
      found.push(...(await problems(page, 'import preview')));

      // Settings, with the kept details of an internal error showing.
      await page.evaluate(() => localStorage.setItem('outpost.last-error', 'Outpost 0.1.0 at 2026-12-01\npanicked at src/example.rs:1:1'));
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Settings' }).waitFor();
      await page.getByLabel('Error details').waitFor();
      found.push(...(await problems(page, 'settings')));

      // Settings as an admin (signed in by an invitation from the CLI): an invitation made (its
      // link and QR code), the sign-out warning open; then the page the invitation link opens.
      const { stdout } = await run(process.env.OUTPOST_RELAY, ['invite', 'create', '--workspace', 'a11y', '--user', 'Axe Admin',
        '--role', 'admin', '--url', relay.url, '--data-dir', relay.dataDir]);
      await page.goto(stdout.trim());
      await page.getByRole('button', { name: 'Join as Axe Admin' }).click();
      await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('group', { name: 'People and devices' }).waitFor({ timeout: 20_000 });
      // Every page of Settings → Workspace, as an admin who may change them.
      for (const part of ['priority', 'sla', 'calendar', 'catalog', 'directory', 'communication']) {
        await page.goto(new URL(`/settings/workspace/${part}`, relay.url).href);
        await page.locator('.workspace-part').first().waitFor();
        await page.locator('.workspace-part button[type="submit"]:enabled').first().waitFor({ timeout: 20_000 });
        found.push(...(await problems(page, `workspace ${part}`)));
      }
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('group', { name: 'People and devices' }).waitFor({ timeout: 20_000 });
      await page.getByLabel("Person's name").fill('Axe Person');
      await page.getByRole('button', { name: 'Create invitation' }).click();
      await page.getByRole('img', { name: /QR code of the invitation link/ }).waitFor();
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.getByRole('heading', { name: 'Sign out of this device?' }).waitFor();
      found.push(...(await problems(page, 'settings, inviting and signing out')));
      await page.goto(await page.getByLabel('Invitation link', { exact: true }).inputValue());
      await page.getByRole('button', { name: 'Join as Axe Person' }).waitFor();
      found.push(...(await problems(page, 'joining')));

      await page.goto(new URL('/no/such/page', relay.url).href);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      found.push(...(await problems(page, 'not found')));

      assert.deepEqual(found, []);
      await context.close();
    });
  }
}

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
