// Alerts in, seen by people: monitoring posts to the relay and the incident appears in an open
// browser, from Monitoring and by the integration; and a parent resolved in the browser, offline,
// resolves its children with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Relay } from './support/relay.mjs';
import { launchBrowser, phoneContext, watchErrors } from './support/browser.mjs';
import { openApp, logIncident, syncStatus as status, until, upToDate, withoutOfflineNoise } from './support/app.mjs';

const FIXTURES = new URL('../../crates/automation/tests/fixtures/', import.meta.url);
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const fact = (page, name) => page.locator('.facts-list dt', { hasText: name }).locator('xpath=following-sibling::dd[1]');

test('an alert posted to the relay appears as an incident in an open browser, from Monitoring', { timeout: 120_000 }, async () => {
  const relay = await Relay.start({ dev: true });
  try {
    const context = await phoneContext(browser);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await openApp(page, relay.url, 'Ana Field');
    await upToDate(page);
    // The admin makes the key in Settings, and sees it once.
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    const integrations = page.getByRole('group', { name: 'Integrations' });
    await integrations.getByText('No integration posts into this workspace yet.').waitFor();
    await integrations.getByRole('button', { name: 'Create key' }).click();
    await integrations.getByText('Name the integration (for example prod-eu).').waitFor();
    await integrations.getByLabel('Sender').selectOption('alertmanager');
    await integrations.getByLabel('Integration name').fill('prod-eu');
    await integrations.getByRole('button', { name: 'Create key' }).click();
    const keyField = page.getByRole('region', { name: 'New integration key' }).getByLabel('Integration key');
    await keyField.waitFor();
    const key = await keyField.inputValue();
    assert.match(key, /^[0-9a-f]{32}$/);
    await integrations.getByRole('button', { name: 'Revoke Alertmanager: prod-eu' }).waitFor();
    await page.getByRole('link', { name: 'Incidents', exact: true }).click();

    const body = await readFile(new URL('alertmanager-firing.json', FIXTURES), 'utf8');
    const post = () => fetch(new URL('/api/integrations/alertmanager', relay.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
      body,
    });
    const answer = await post();
    assert.equal(answer.status, 202, await answer.text());

    // It arrives while the page is open, without a reload.
    const row = page.getByRole('link', { name: /Disk almost full on db-1/ });
    await row.waitFor({ timeout: 30_000 });
    await page.getByRole('link', { name: /Disk almost full on db-2/ }).waitFor();
    // A retry from Alertmanager adds nothing.
    assert.equal((await post()).status, 202);
    await row.click();
    await page.getByRole('heading', { level: 1, name: /Disk almost full on db-1/ }).waitFor();
    assert.equal(await fact(page, 'Detection source').textContent(), 'Monitoring');
    assert.equal(await fact(page, 'Affected service').textContent(), 'Payroll');
    await page.getByText('Alertmanager: prod-eu').first().waitFor();
    await page.getByRole('link', { name: 'Incidents', exact: true }).click();
    // The group's parent and its two alerts: a retry made none of them twice.
    await until(async () => (await page.locator('.result-count').textContent()) === '3 incidents', { message: 'three incidents, not six' });
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await relay.dispose();
  }
});

test('resolving a parent in the browser, offline, resolves its open children', { timeout: 180_000 }, async () => {
  const relay = await Relay.start({ dev: true });
  try {
    const context = await phoneContext(browser);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await openApp(page, relay.url, 'Ana Field');
    await upToDate(page);
    await logIncident(page, { title: 'Email down for the whole office', impact: '1', urgency: '1' });
    const parentRef = (await page.getByRole('heading', { level: 1 }).textContent()).match(/INC-[A-Z0-9]+-\d+/)[0];
    for (const who of ['Floor 2', 'Floor 3']) {
      await logIncident(page, { title: `No email on ${who}` });
      await page.getByLabel('New parent').fill('whole office');
      await until(async () => (await page.locator('#link-parent-suggestions option').evaluateAll((os) => os.map((o) => o.value))).join() === parentRef, { message: 'the parent suggested' });
      await page.getByRole('button', { name: 'Set parent' }).click();
      await page.getByRole('region', { name: 'Links' }).getByRole('link', { name: new RegExp(parentRef) }).waitFor();
    }
    await upToDate(page);
    // To the parent, through its link, as a person would.
    await page.getByRole('region', { name: 'Links' }).getByRole('link', { name: new RegExp(parentRef) }).click();
    await page.getByRole('heading', { level: 1, name: /Email down/ }).waitFor();

    // The relay goes away; the technician works the parent to Resolved.
    await relay.stop();
    await until(async () => (await status(page)) === 'Offline', { message: 'offline' });
    await page.getByRole('button', { name: 'Start work', exact: true }).click();
    await page.locator('.badge.state', { hasText: 'In Progress' }).waitFor();
    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    await page.getByLabel('Resolution code').selectOption({ label: 'Solution provided' });
    await page.getByLabel('Resolution notes').fill('The mail host restored the relay.');
    await page.getByRole('button', { name: 'Confirm resolution' }).click();
    await page.locator('.badge.state', { hasText: 'Resolved' }).waitFor();

    // Both children followed, on this device, with no relay.
    for (const who of ['Floor 2', 'Floor 3']) {
      await page.getByRole('link', { name: 'Incidents', exact: true }).click();
      await page.getByLabel('State').selectOption('all');
      await page.getByRole('link', { name: new RegExp(`No email on ${who}`) }).click();
      await page.getByRole('heading', { level: 1, name: new RegExp(`No email on ${who}`) }).waitFor();
      await page.locator('.badge.state', { hasText: 'Resolved' }).waitFor();
      await page.getByText('Resolved with its parent').first().waitFor();
    }

    // Back online, the relay takes every change (its judge admits the children's resolutions).
    await relay.restart();
    await upToDate(page, 90_000);
    assert.doesNotMatch(await page.locator('main').innerText(), /refused/i);
    // The browser's own complaints while the relay was away are expected; nothing else is.
    assert.deepEqual(withoutOfflineNoise(errors), []);
    await context.close();
  } finally {
    await relay.dispose();
  }
});
