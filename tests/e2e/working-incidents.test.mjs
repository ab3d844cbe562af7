// A person logs incidents and works them to Closed, with no network needed after the page loads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from './support/relay.mjs';
import { launchBrowser, phoneContext, watchErrors } from './support/browser.mjs';
import { openApp, logIncident, until } from './support/app.mjs';

let relay, browser;
before(async () => {
  relay = await Relay.start();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.dispose();
});

test('the form explains what is missing, next to the field', { timeout: 60_000 }, async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  await openApp(page, relay.url);
  await page.getByRole('link', { name: 'New incident' }).click();
  await page.getByRole('button', { name: 'Create incident' }).click();
  const title = page.getByLabel('Title');
  await until(async () => (await title.getAttribute('aria-invalid')) === 'true', { message: 'title marked invalid' });
  assert.equal(await page.locator('#title-error').textContent(), 'Title is required.');
  assert.equal(await page.locator('#caller-error').textContent(), 'Caller is required for incidents reported by a user.');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'title', 'focus moves to the first problem');
  // The priority follows impact and urgency as they change.
  await page.getByLabel('Impact').selectOption('1');
  await page.getByLabel('Urgency').selectOption('1');
  await until(async () => (await page.locator('.computed-priority').textContent()).includes('P1 Critical'), { message: 'P1 shown' });
  await context.close();
});

test('log an incident, see its priority, work it to Closed, reload and find it all', { timeout: 120_000 }, async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await openApp(page, relay.url);
  const url = await logIncident(page, {
    title: 'Email outage on floor 3',
    description: 'Users cannot log in since the 08:00 patch.',
    impact: '1',
    urgency: '2',
  });
  assert.match(await page.getByRole('heading', { level: 1 }).textContent(), /^INC-[0-9A-F]{4}-0001: Email outage on floor 3$/);
  await page.getByText('P2 High', { exact: true }).first().waitFor();

  await page.getByRole('button', { name: 'Start work', exact: true }).click();
  await page.locator('.badge.state', { hasText: 'In Progress' }).waitFor();

  await page.getByLabel('Work note', { exact: true }).fill('Rolled back the security patch on mail-01.');
  await page.getByRole('button', { name: 'Add work note' }).click();
  await page.getByText('Rolled back the security patch on mail-01.').first().waitFor();
  await page.getByLabel('Comment', { exact: true }).fill('We are restoring email now.');
  await page.getByRole('button', { name: 'Add comment' }).click();
  await page.getByRole('heading', { name: 'Comments (1)' }).waitFor();

  // Put on hold awaiting the caller: a comment is required.
  await page.getByRole('button', { name: 'Put on hold', exact: true }).click();
  await page.getByLabel('Hold reason').selectOption('awaiting_caller');
  await page.getByRole('button', { name: 'Confirm hold' }).click();
  await page.getByRole('alert').filter({ hasText: 'Write a comment to the caller' }).waitFor();
  await page.getByLabel('Comment to the caller').fill('Can you try logging in again?');
  await page.getByRole('button', { name: 'Confirm hold' }).click();
  await page.locator('.badge.state', { hasText: 'On Hold (Awaiting Caller)' }).waitFor();
  await page.getByRole('button', { name: 'Start work', exact: true }).click();
  await page.locator('.badge.state', { hasText: 'In Progress' }).waitFor();

  // Resolving without a code is refused with a readable message.
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await page.getByLabel('Resolution notes').fill('Patch rolled back; mail server reconfigured.');
  await page.getByRole('button', { name: 'Confirm resolution' }).click();
  await page.getByRole('alert').filter({ hasText: 'Choose a resolution code to resolve the incident.' }).waitFor();
  assert.equal(await page.getByLabel('Resolution code').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Resolution code').selectOption({ label: 'Workaround provided' });
  await page.getByRole('button', { name: 'Confirm resolution' }).click();
  await page.locator('.badge.state', { hasText: 'Resolved' }).waitFor();

  await page.getByRole('button', { name: 'Close', exact: true }).click();
  await page.getByRole('button', { name: 'Confirm close' }).click();
  await page.locator('.badge.state', { hasText: 'Closed' }).waitFor();
  await page.getByRole('note').filter({ hasText: 'This incident is Closed' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Add work note' }).count(), 0, 'closed incidents take no more notes');

  // Reload: everything is still there, read from IndexedDB.
  await page.reload();
  await page.getByRole('heading', { level: 1, name: /Email outage on floor 3/ }).waitFor();
  assert.equal(page.url(), url);
  await page.locator('.badge.state', { hasText: 'Closed' }).waitFor();
  for (const text of ['Rolled back the security patch on mail-01.', 'We are restoring email now.', 'Can you try logging in again?']) {
    await page.getByText(text).first().waitFor();
  }
  const timeline = page.getByRole('region', { name: 'Timeline' });
  for (const step of ['Start work: New → In Progress', 'Put on hold: In Progress → On Hold (Awaiting Caller)', 'Resolve: In Progress → Resolved', 'Close: Resolved → Closed']) {
    await timeline.getByText(step).waitFor();
  }
  await page.getByText('Response: met').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('incidents link to a parent and as duplicates, chosen by typing', { timeout: 90_000 }, async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await openApp(page, relay.url);
  await logIncident(page, { title: 'Core switch failure in building B' });
  const parentRef = (await page.getByRole('heading', { level: 1 }).textContent()).match(/INC-[A-Z0-9]+-\d+/)[0];
  await logIncident(page, { title: 'Floor 2 printers offline' });

  // Typing title words offers the matching incident; setting it links the two.
  await page.getByLabel('New parent').fill('core switch');
  await until(async () => (await page.locator('#link-parent-suggestions option').evaluateAll((os) => os.map((o) => o.value))).join() === parentRef, { message: 'the parent suggested' });
  await page.getByRole('button', { name: 'Set parent' }).click();
  const links = page.getByRole('region', { name: 'Links' });
  await links.getByRole('link', { name: `${parentRef}: Core switch failure in building B` }).waitFor();

  // A target that matches nothing is refused in words, next to the field.
  await page.getByLabel('Original incident').fill('no such incident');
  await page.getByRole('button', { name: 'Mark as duplicate' }).click();
  await links.getByText('No other incident on this device matches “no such incident”.').waitFor();
  assert.equal(await page.getByLabel('Original incident').getAttribute('aria-invalid'), 'true');

  // The parent lists its child.
  await links.getByRole('link', { name: new RegExp(parentRef) }).click();
  await page.getByRole('heading', { level: 1, name: /Core switch failure/ }).waitFor();
  await page.getByRole('region', { name: 'Links' }).getByRole('link', { name: /Floor 2 printers offline/ }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('an incident opens from its URL in a new tab', { timeout: 60_000 }, async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  await openApp(page, relay.url);
  const url = await logIncident(page, { title: 'Printer jam in the lobby' });
  const other = await context.newPage();
  await other.goto(url);
  await other.getByRole('heading', { level: 1, name: /Printer jam in the lobby/ }).waitFor();
  await other.goto(new URL('/incidents/not-an-id', relay.url).href);
  await other.getByText('This address does not name an incident.').waitFor();
  await context.close();
});

test('the list filters, sorts and searches as you type', { timeout: 120_000 }, async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  await openApp(page, relay.url, 'Ben Tech');
  await logIncident(page, { title: 'VPN gateway down', impact: '1', urgency: '1', description: 'Remote staff cannot connect' });
  await logIncident(page, { title: 'Toner low on printer 4', impact: '3', urgency: '3', assignee: 'Ben Tech' });
  const third = await logIncident(page, { title: 'Slow file share', impact: '2', urgency: '2' });
  await page.getByLabel('Work note', { exact: true }).fill('Suspect the backup job saturating the uplink.');
  await page.getByRole('button', { name: 'Add work note' }).click();
  await page.getByRole('heading', { name: 'Work notes (1)' }).waitFor();
  await page.getByRole('link', { name: 'Incidents', exact: true }).click();

  const titles = async () => (await page.locator('.row-title').allTextContents());
  await until(async () => (await titles()).includes('Slow file share'), { message: 'list shows the new incidents' });
  // Sorted by priority: P1 first.
  assert.equal((await titles())[0], 'VPN gateway down');

  await page.getByLabel('Priority').selectOption('1');
  await until(async () => JSON.stringify(await titles()) === JSON.stringify(['VPN gateway down']), { message: 'priority filter' });
  await page.getByLabel('Priority').selectOption('');

  await page.getByLabel('Assigned to me').check();
  await until(async () => JSON.stringify(await titles()) === JSON.stringify(['Toner low on printer 4']), { message: 'assigned to me' });
  await page.getByLabel('Assigned to me').uncheck();

  // Search reaches descriptions and notes, word by word, as you type.
  await page.getByLabel('Search').pressSequentially('uplink');
  await until(async () => JSON.stringify(await titles()) === JSON.stringify(['Slow file share']), { message: 'search in notes' });
  await page.getByLabel('Search').fill('remote staff');
  await until(async () => JSON.stringify(await titles()) === JSON.stringify(['VPN gateway down']), { message: 'search in description' });
  await page.getByLabel('Search').fill('');

  // Filters survive a reload (they live in the URL).
  await page.getByLabel('State').selectOption('all');
  await page.getByLabel('Sort by').selectOption('updated');
  await until(async () => (await titles())[0] === 'Slow file share', { message: 'most recently updated first' });
  await page.reload();
  await until(async () => (await titles()).length === 3 && (await titles())[0] === 'Slow file share', { message: 'filters after reload' });
  assert.equal(await page.getByLabel('Sort by').inputValue(), 'updated');

  // Opening from the list.
  await page.getByRole('link', { name: /Slow file share/ }).click();
  await page.waitForURL(third);
  await page.getByRole('heading', { level: 1, name: /Slow file share/ }).waitFor();
  await context.close();
});
