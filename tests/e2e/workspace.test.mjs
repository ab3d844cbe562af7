// The workspace's own rules and people, edited in the app: an admin shortens P2's resolution
// target and adds a group and a person in one browser; an agent's browser, signed in to the same
// workspace, sees the new due time on a new P2 incident and can pick the new person, and may read
// the settings but not change them. A new priority matrix re-prioritises open incidents in every
// list without anyone opening them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from './support/relay.mjs';
import { launchBrowser, watchErrors } from './support/browser.mjs';
import { logIncident, until } from './support/app.mjs';
import { joined as joinedAs, openPart } from './support/workspace.mjs';

let relay, browser;
before(async () => {
  relay = await Relay.start();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.dispose();
});

const joined = (user, role) => joinedAs(relay, browser, user, role);

test('an admin changes the P2 target and the directory; an agent gets both and cannot edit', { timeout: 240_000 }, async () => {
  const admin = await joined('Ada Admin', 'admin');
  const adminErrors = watchErrors(admin);
  const agent = await joined('Tom Tech', 'agent');
  const agentErrors = watchErrors(agent);

  // The admin: P2 resolves within 4 hours now.
  await openPart(admin, 'SLA targets');
  await admin.getByLabel('P2 resolution target (minutes)').fill('10');
  await admin.getByRole('button', { name: 'Save SLA targets' }).click();
  await admin.getByText('Resolution cannot be sooner than response.').waitFor();
  await admin.getByLabel('P2 resolution target (minutes)').fill('240');
  await admin.getByRole('button', { name: 'Save SLA targets' }).click();
  const said = admin.locator('form .feedback');
  await said.waitFor();
  assert.match(await said.textContent(), /^Saved\./);

  // A group, and a person in it; a duplicate is refused next to the name.
  await openPart(admin, 'Groups and people');
  await admin.getByLabel('Group name').fill('Network Operations');
  await admin.getByRole('button', { name: 'Add group' }).click();
  await admin.getByRole('checkbox', { name: 'Network Operations' }).waitFor();
  await admin.getByLabel('Group name').fill('network operations');
  await admin.getByRole('button', { name: 'Add group' }).click();
  await admin.getByText('"network operations" is already in the directory.').waitFor();
  await admin.getByLabel('Name', { exact: true }).fill('Nia Network');
  await admin.getByLabel('Email').fill('nia@example.org');
  await admin.getByRole('checkbox', { name: 'Network Operations' }).check();
  await admin.getByRole('checkbox', { name: 'On call' }).check();
  await admin.getByRole('button', { name: 'Save person' }).click();
  await admin.getByRole('list', { name: 'People' }).getByText('Nia Network, nia@example.org: Network Operations, on call').waitFor();

  // The agent's browser gets the workspace as it syncs: Nia is offered as an assignee.
  await until(async () => (await agent.locator('#directory-people option[value="Nia Network"]').count()) === 1,
    { timeout: 30_000, message: 'the directory to reach the agent' });
  await agent.getByRole('link', { name: 'New incident' }).click();
  await agent.getByLabel('Assignee').fill('Someone Else');
  await agent.getByText('Not in the directory: kept as typed.').waitFor();
  await agent.getByRole('link', { name: 'Incidents' }).click();
  await logIncident(agent, { title: 'Core switch flapping', impact: '1', urgency: '2', assignee: 'Nia Network' });
  const clocks = agent.getByRole('region', { name: 'SLA and updates' });
  await clocks.getByText('SLA definition P2: respond within 30m, resolve within 4h 00m, around the clock').waitFor();
  const resolution = await clocks.getByText(/^Resolution:/).textContent();
  assert.match(resolution, /^Resolution: (3h 5\dm|4h 00m) left/, resolution);
  await agent.getByRole('heading', { level: 1, name: /Core switch flapping/ }).waitFor();
  assert.equal(await agent.getByText('Not in the directory: kept as typed.').count(), 0);

  // The agent reads the settings but cannot change them, and is told why.
  await openPart(agent, 'SLA targets');
  await agent.getByText("You can read the workspace's settings but not change them: Changing the workspace needs the admin role.").waitFor();
  assert.equal(await agent.getByLabel('P2 resolution target (minutes)').inputValue(), '240');
  assert.ok(await agent.getByLabel('P2 resolution target (minutes)').isDisabled());
  assert.ok(await agent.getByRole('button', { name: 'Save SLA targets' }).isDisabled());

  assert.deepEqual(adminErrors, []);
  assert.deepEqual(agentErrors, []);
});

test('an admin sets the calendar, catalog and communication plan; an agent works with them', { timeout: 240_000 }, async () => {
  const admin = await joined('Cleo Admin', 'admin');
  const adminErrors = watchErrors(admin);
  const agent = await joined('Raj Tech', 'agent');
  const agentErrors = watchErrors(agent);

  // The calendar: a zone this browser does not know and impossible hours are refused next to
  // their fields; New York hours with a Saturday morning and a holiday are saved.
  await openPart(admin, 'Business calendar');
  await admin.getByLabel('Calendar name').fill('New York desk');
  await admin.getByLabel('Time zone').fill('Mars/Olympus_Mons');
  await admin.getByLabel('Monday until').fill('08:00');
  await admin.getByLabel('Holidays').fill('2026-12-25\nnext Friday');
  await admin.getByRole('button', { name: 'Save calendar' }).click();
  await admin.getByText('“Mars/Olympus_Mons” is not a time zone this browser knows (use an IANA name such as Europe/London).').waitFor();
  await admin.getByText('Monday: working hours must start before they end, within one day.').waitFor();
  await admin.getByText('"next Friday" is not a date: write holidays as 2026-12-25, one per line or separated by commas.').waitFor();
  assert.equal(await admin.getByLabel('Time zone').getAttribute('aria-invalid'), 'true');
  await admin.getByLabel('Time zone').fill('America/New_York');
  await admin.getByLabel('Monday until').fill('17:00');
  await admin.getByLabel('Saturday is a working day').check();
  await admin.getByLabel('Saturday until').fill('12:00');
  await admin.getByLabel('Holidays').fill('2026-12-25, 2027-01-01');
  await admin.getByRole('button', { name: 'Save calendar' }).click();
  await admin.getByText(/^America\/New_York: daylight-saving changes are known up to /).waitFor();
  assert.equal(await admin.getByLabel('Time zone').getAttribute('aria-invalid'), 'false');

  // The catalog: a category with subcategories, and a service.
  await openPart(admin, 'Categories, services and resolution codes');
  await admin.getByRole('button', { name: 'Save category' }).click();
  await admin.getByText('Enter a name.').waitFor();
  await admin.getByLabel('Name of the category').fill('Telephony');
  await admin.getByLabel('Subcategories').fill('Desk phone, Softphone, desk phone');
  await admin.getByRole('button', { name: 'Save category' }).click();
  await admin.getByRole('list', { name: 'Categories' }).getByText('Telephony: Desk phone, Softphone').waitFor();
  await admin.getByRole('button', { name: 'Remove Facilities' }).click();
  await until(async () => (await admin.getByRole('button', { name: 'Remove Facilities' }).count()) === 0, { message: 'Facilities removed' });
  await admin.getByLabel('Name of the service').fill('Payroll');
  await admin.getByLabel('Supporting group').fill('HR Systems');
  await admin.getByRole('button', { name: 'Save service' }).click();
  await admin.getByRole('list', { name: 'Services' }).getByText('Payroll: HR Systems').waitFor();

  // The communication plan: a zero interval is refused next to it; a 30-minute P1 cadence and a
  // second escalation rule are saved.
  await openPart(admin, 'Communication and escalation');
  await admin.getByLabel('P1: update affected users every (minutes)').fill('0');
  await admin.getByRole('button', { name: 'Add an escalation rule' }).click();
  await admin.getByLabel('Rule 2: at percent of the resolution target').fill('75');
  await admin.getByRole('button', { name: 'Save communication and escalation' }).click();
  await admin.getByText('Enter whole minutes, at least 1 (at most a year).').waitFor();
  await admin.getByText('Another rule applies at 75%.').waitFor();
  await admin.getByLabel('P1: update affected users every (minutes)').fill('30');
  await admin.getByLabel('Rule 2: at percent of the resolution target').fill('100');
  await admin.getByRole('button', { name: 'Save communication and escalation' }).click();
  const said = admin.locator('form .feedback');
  await said.waitFor();
  assert.match(await said.textContent(), /^Saved\./);

  // The agent's device follows: the calendar, the catalog in the new-incident form, and the plan.
  await until(async () => (await agent.locator('#directory-services option[value="Payroll"]').count()) === 1,
    { timeout: 30_000, message: 'the catalog to reach the agent' });
  await agent.getByRole('link', { name: 'New incident' }).click();
  const category = agent.getByLabel('Category', { exact: true });
  await category.selectOption('Telephony');
  assert.equal(await category.locator('option', { hasText: 'Facilities' }).count(), 0);
  assert.deepEqual(await agent.locator('#subcategories option').evaluateAll((os) => os.map((o) => o.value)), ['Desk phone', 'Softphone']);
  await openPart(agent, 'Business calendar');
  assert.equal(await agent.getByLabel('Time zone').inputValue(), 'America/New_York');
  assert.equal(await agent.getByLabel('Saturday until').inputValue(), '12:00');
  assert.ok(await agent.getByLabel('Time zone').isDisabled());
  await openPart(agent, 'Communication and escalation');
  await until(async () => (await agent.getByLabel('P1: update affected users every (minutes)').inputValue()) === '30',
    { timeout: 30_000, message: 'the plan to reach the agent' });
  assert.equal(await agent.getByLabel('Rule 2: at percent of the resolution target').inputValue(), '100');
  assert.ok(await agent.getByRole('button', { name: 'Save communication and escalation' }).isDisabled());

  assert.deepEqual(adminErrors, []);
  assert.deepEqual(agentErrors, []);
});

test('a new priority matrix re-prioritises open incidents in every list, before anyone opens them', { timeout: 240_000 }, async () => {
  const admin = await joined('Ari Admin', 'admin');
  const agent = await joined('Una Agent', 'agent');
  const agentErrors = watchErrors(agent);

  // Medium impact, high urgency: P2 under the ITIL matrix.
  await logIncident(agent, { title: 'Payroll export failing', impact: '2', urgency: '1' });
  await agent.getByRole('link', { name: 'Incidents' }).click();
  const row = agent.getByRole('listitem').filter({ hasText: 'Payroll export failing' });
  await row.getByText('P2 High').waitFor();

  // The admin makes that cell P1.
  await until(async () => (await admin.getByText('Payroll export failing').count()) === 1,
    { timeout: 30_000, message: 'the incident to reach the admin' });
  await openPart(admin, 'Priority matrix and labels');
  await admin.getByLabel('Priority for impact 2 - Medium and urgency 1 - High').selectOption('1');
  await admin.getByRole('button', { name: 'Save priorities' }).click();
  const said = admin.locator('form .feedback');
  await said.waitFor();
  assert.match(await said.textContent(), /^Saved\./);

  // The agent's list shows P1 as soon as the workspace document syncs, without the incident
  // being opened, and after a reload.
  await row.getByText('P1 Critical').waitFor({ timeout: 30_000 });
  await agent.reload();
  await agent.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  await row.getByText('P1 Critical').waitFor();
  assert.equal(await row.getByText('P2 High').count(), 0);
  assert.deepEqual(agentErrors, []);
});

test('an admin adds a second business calendar, points P3 at it, stops vendor holds pausing and adds a resolution code; an agent\'s P3 follows', { timeout: 240_000 }, async () => {
  const admin = await joined('Bea Admin', 'admin');
  const adminErrors = watchErrors(admin);
  const agent = await joined('Kai Tech', 'agent');
  const agentErrors = watchErrors(agent);

  // A second calendar, Berlin's; a third of the same name is refused next to the name.
  await openPart(admin, 'Business calendars');
  await admin.getByLabel('Calendar to edit').selectOption({ label: 'Add a calendar' });
  await admin.getByLabel('Calendar name').fill('Berlin office');
  await admin.getByLabel('Time zone').fill('Europe/Berlin');
  await admin.getByRole('button', { name: 'Save calendar' }).click();
  await admin.getByText(/^Europe\/Berlin: daylight-saving changes are known up to /).waitFor();
  assert.equal(await admin.getByLabel('Calendar to edit').inputValue(), 'other:Berlin office');
  assert.match(await admin.locator('form .feedback').textContent(), /^Saved\./);
  assert.equal(await admin.getByLabel('Calendar name').getAttribute('readonly'), '');
  await admin.getByLabel('Calendar to edit').selectOption({ label: 'Add a calendar' });
  await admin.getByLabel('Calendar name').fill('berlin office');
  await admin.getByRole('button', { name: 'Save calendar' }).click();
  await admin.getByText('The calendar "berlin office" is listed twice.').waitFor();
  assert.equal(await admin.getByLabel('Calendar name').getAttribute('aria-invalid'), 'true');

  // The workspace's own resolution code, and a standard one removed.
  await openPart(admin, 'Categories, services and resolution codes');
  await admin.getByLabel('Name of the resolution code').fill('Replaced hardware');
  await admin.getByLabel('When to use it').fill('A part was swapped.');
  await admin.getByRole('button', { name: 'Save resolution code' }).click();
  await admin.getByRole('list', { name: 'Resolution codes' }).getByText('Replaced hardware: A part was swapped.').waitFor();
  await admin.getByRole('button', { name: 'Remove Known error' }).click();
  await until(async () => (await admin.getByRole('button', { name: 'Remove Known error' }).count()) === 0, { message: 'Known error removed' });

  // P3 counts in Berlin's hours, and waiting on a vendor no longer pauses the clock; the
  // calendar cannot be removed while a target counts in it.
  await openPart(admin, 'SLA targets');
  await admin.getByLabel('P3 counts').selectOption({ label: 'business hours of Berlin office' });
  assert.ok(await admin.getByLabel('Awaiting Vendor pauses the resolution clock').isChecked());
  await admin.getByLabel('Awaiting Vendor pauses the resolution clock').uncheck();
  await admin.getByRole('button', { name: 'Save SLA targets' }).click();
  const said = admin.locator('form .feedback');
  await said.waitFor();
  assert.match(await said.textContent(), /^Saved\./);
  await openPart(admin, 'Business calendars');
  await admin.getByLabel('Calendar to edit').selectOption({ label: 'Berlin office' });
  await admin.getByRole('button', { name: 'Remove this calendar' }).click();
  await admin.getByText('P3 counts in Berlin office: choose another calendar for it in SLA targets first.').waitFor();

  // The agent's device has both once the workspace document syncs; a new P3 records Berlin's
  // calendar in its SLA definition.
  await until(async () => {
    await openPart(agent, 'SLA targets');
    return (await agent.getByLabel('P3 counts').inputValue()) === 'other:Berlin office';
  }, { timeout: 30_000, message: 'the SLA change to reach the agent' });
  assert.equal(await agent.getByLabel('Awaiting Vendor pauses the resolution clock').isChecked(), false);
  assert.ok(await agent.getByLabel('Awaiting Change pauses the resolution clock').isChecked());
  await agent.getByRole('link', { name: 'Incidents' }).click();
  await logIncident(agent, { title: 'Berlin printers offline', impact: '2', urgency: '2' });
  await agent.getByRole('region', { name: 'SLA and updates' })
    .getByText('SLA definition P3: respond within 4h 00m, resolve within 1d 0h, in the business hours of Berlin office').waitFor();

  // On hold awaiting a vendor, the resolution clock keeps running; awaiting a change, it pauses.
  const resolution = agent.getByRole('region', { name: 'SLA and updates' }).getByText(/^Resolution:/);
  await agent.getByRole('button', { name: 'Put on hold', exact: true }).click();
  await agent.getByLabel('Hold reason').selectOption('awaiting_vendor');
  await agent.getByRole('button', { name: 'Confirm hold' }).click();
  await agent.locator('.badge.state', { hasText: 'On Hold (Awaiting Vendor)' }).waitFor();
  assert.doesNotMatch(await resolution.textContent(), /paused/);
  await agent.getByRole('button', { name: 'Start work', exact: true }).click();
  await agent.locator('.badge.state', { hasText: 'In Progress' }).waitFor();
  await agent.getByRole('button', { name: 'Put on hold', exact: true }).click();
  await agent.getByLabel('Hold reason').selectOption('awaiting_change');
  await agent.getByRole('button', { name: 'Confirm hold' }).click();
  await agent.locator('.badge.state', { hasText: 'On Hold (Awaiting Change)' }).waitFor();
  await until(async () => /paused/.test(await resolution.textContent()), { message: 'the clock to pause' });

  // Resolving offers the workspace's codes (synced before the SLA change the agent waited for).
  await agent.getByRole('button', { name: 'Start work', exact: true }).click();
  await agent.locator('.badge.state', { hasText: 'In Progress' }).waitFor();
  await agent.getByRole('button', { name: 'Resolve', exact: true }).click();
  const codes = agent.getByLabel('Resolution code');
  assert.equal(await codes.locator('option', { hasText: 'Known error' }).count(), 0);
  await codes.selectOption({ label: 'Replaced hardware' });
  await agent.getByLabel('Resolution notes').fill('Swapped the print server\'s failed disk.');
  await agent.getByRole('button', { name: 'Confirm resolution' }).click();
  await agent.locator('.badge.state', { hasText: 'Resolved' }).waitFor();
  await agent.getByText(/Replaced hardware/).first().waitFor();

  assert.deepEqual(adminErrors, []);
  assert.deepEqual(agentErrors, []);
});
