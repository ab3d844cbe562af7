// People told: a P1 logged in one browser reaches the on-call person's inbox on a real SMTP
// server (aiosmtpd), and the on-call person's open browser shows it as a system notification
// (Chromium with the permission granted); an update coming due is reminded on a device that is
// offline, the relay gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from './support/relay.mjs';
import { Smtp } from './support/smtp.mjs';
import { launchBrowser, watchErrors } from './support/browser.mjs';
import { logIncident, until, withoutOfflineNoise } from './support/app.mjs';
import { cli, joined as joinedAs, openPart } from './support/workspace.mjs';
import { audit } from './support/a11y.mjs';
import { AxeBuilder } from '@axe-core/playwright';
let relay, browser, smtp;
before(async () => {
  smtp = await Smtp.start();
  relay = await Relay.start({ args: ['--housekeeping-every', '1', '--smtp-url', smtp.url] });
  browser = await launchBrowser();
  // A chat webhook that refuses every post (the relay itself answers 405 there): its messages
  // end as undelivered, for the admin to see.
  await cli(relay, 'notify', 'hook-add', '--workspace', 'acme', '--kind', 'slack', '--url', `${relay.url}hooks/missing`);
});
after(async () => {
  await browser?.close();
  await relay?.dispose();
  await smtp?.dispose();
});

/** Records every system notification the page shows, then shows it as the browser would. */
function recordNotifications() {
  window.__notified = [];
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notified.push({ title, body: options?.body ?? '' });
    }
  };
}

const joined = (user, role, options) => joinedAs(relay, browser, user, role, options);

async function addPerson(admin, name, email, { group = '', onCall = false } = {}) {
  await admin.getByLabel('Name', { exact: true }).fill(name);
  await admin.getByLabel('Email').fill(email);
  if (group) await admin.getByRole('checkbox', { name: group }).check();
  if (onCall) await admin.getByRole('checkbox', { name: 'On call' }).check();
  await admin.getByRole('button', { name: 'Save person' }).click();
  await admin.getByRole('list', { name: 'People' }).getByText(new RegExp(`^${name}, ${email}`)).waitFor();
}

let admin, adminErrors;

test('a P1 logged in one browser reaches the on-call person by mail and on their open browser', { timeout: 240_000 }, async () => {
  admin = await joined('Ada Admin', 'admin', { init: recordNotifications });
  adminErrors = watchErrors(admin);
  await openPart(admin, 'Groups and people');
  await admin.getByLabel('Group name').fill('Service Desk');
  await admin.getByRole('button', { name: 'Add group' }).click();
  await admin.getByRole('checkbox', { name: 'Service Desk' }).waitFor();
  await addPerson(admin, 'Oli Call', 'oli@example.org', { onCall: true });
  await addPerson(admin, 'Tom Tech', 'tom@example.org', { group: 'Service Desk' });

  // Oli, on call, allows reminders as notifications on his phone.
  const oli = await joined('Oli Call', 'agent', { context: { permissions: ['notifications'] }, init: recordNotifications });
  const oliErrors = watchErrors(oli);
  await until(async () => (await oli.locator('#directory-people option[value="Oli Call"]').count()) === 1,
    { timeout: 30_000, message: 'the directory to reach Oli' });
  await oli.getByRole('link', { name: 'Settings' }).click();
  const reminders = oli.getByRole('group', { name: 'Reminders' });
  await reminders.getByRole('button', { name: 'Also notify me on this device' }).click();
  await reminders.getByText('Reminders will also arrive as notifications on this device.').waitFor();
  await reminders.getByRole('button', { name: 'Stop notifications' }).waitFor();
  await oli.getByRole('link', { name: 'Incidents' }).click();

  // Ada logs a P1 for the service desk.
  await admin.getByRole('link', { name: 'Incidents' }).click();
  await logIncident(admin, { title: 'Payroll run failed for every employee', impact: '1', urgency: '1' });

  // Oli's open browser shows it, in the app and as a system notification, once.
  const notified = await until(async () => {
    const seen = await oli.evaluate(() => window.__notified);
    return seen.find((n) => /new P1 Critical/.test(n.title)) && seen;
  }, { timeout: 60_000, message: 'the P1 as a notification on Oli\'s browser' });
  assert.equal(notified.filter((n) => /new P1 Critical/.test(n.title)).length, 1);
  assert.match(notified[0].body, /Payroll run failed for every employee/);
  const summary = oli.locator('.reminders summary');
  await summary.waitFor();
  assert.match(await summary.textContent(), /^1 reminder/);
  await summary.click();
  await oli.getByRole('link', { name: /new P1 Critical/ }).click();
  await oli.getByRole('heading', { level: 1, name: /Payroll run failed/ }).waitFor();

  // And his inbox has the mail, with the link to the incident.
  const mail = await until(async () => (await smtp.received()).find((m) => m.to === 'oli@example.org' && m.subject.startsWith('[P1 Critical]')),
    { timeout: 60_000, message: 'the P1 in Oli\'s inbox' });
  assert.match(mail.subject, /Payroll run failed for every employee/);
  assert.ok(mail.body.includes(`${relay.url}incidents/`), mail.body);

  // Ada declares it a major incident with a bridge: the call is first on the page, a link
  // that is not an address is refused next to the field, and Oli's mail carries the bridge.
  await admin.getByRole('button', { name: 'Edit details' }).click();
  await admin.getByLabel('Major incident').check();
  await admin.getByLabel('Bridge link').fill('call me on teams');
  await admin.getByRole('button', { name: 'Save changes' }).click();
  await admin.getByText("Enter the bridge's address as a link, starting https://").waitFor();
  assert.equal(await admin.getByLabel('Bridge link').getAttribute('aria-invalid'), 'true');
  const bridge = 'https://teams.example.org/l/meetup-join/payroll-war-room';
  await admin.getByLabel('Bridge link').fill(bridge);
  await admin.getByRole('button', { name: 'Save changes' }).click();
  await admin.getByRole('button', { name: 'Edit details' }).waitFor();
  const join = admin.getByRole('link', { name: 'Join the bridge' });
  assert.equal(await join.getAttribute('href'), bridge);
  const major = await until(async () => (await smtp.received()).find((m) => m.to === 'oli@example.org' && m.subject.startsWith('[Major incident')),
    { timeout: 60_000, message: 'the major incident in Oli\'s inbox' });
  assert.ok(major.body.includes(`Bridge (join the call): ${bridge}`), major.body);
  assert.deepEqual(oliErrors, []);

  // Ada, the admin, sees what the relay sent and what the refusing webhook would not take,
  // and sends one again.
  await admin.getByRole('link', { name: 'Settings' }).click();
  const outbox = admin.getByRole('group', { name: 'Notifications' });
  const again = outbox.getByRole('button', { name: /^Send again: \[P1 Critical\]/ });
  await until(async () => {
    if (await again.count()) return true;
    await outbox.getByRole('button', { name: 'Refresh' }).click();
    return false;
  }, { timeout: 30_000, message: 'the undelivered webhook message listed' });
  assert.match(await outbox.getByRole('listitem').first().textContent(), /to a chat webhook: the webhook answered 405/);
  assert.match(await outbox.locator('p').nth(1).textContent(), /^\d+ sent, \d+ waiting, \d+ undelivered\.$/);
  await again.click();
  await outbox.getByText(/is queued again\.$/).waitFor();
});

test('an update coming due is reminded on a device that is offline', { timeout: 240_000 }, async () => {
  // P3s update their affected users every 10 minutes here.
  await openPart(admin, 'Communication and escalation');
  await admin.getByLabel('P3: update affected users every (minutes)').fill('10');
  await admin.getByRole('button', { name: 'Save communication and escalation' }).click();
  await admin.locator('form .feedback').getByText(/^Saved\./).waitFor();

  const tom = await joined('Tom Tech', 'agent');
  const tomErrors = watchErrors(tom);
  // The relay goes away (the last test of the file: nothing after needs it).
  await relay.stop();
  await until(async () => (await tom.locator('.sync-label').textContent()) === 'Offline', { timeout: 20_000, message: 'Tom offline' });
  await logIncident(tom, { title: 'Scanner on floor 3 offline', impact: '2', urgency: '2', assignee: 'Tom Tech' });
  const summary = tom.locator('.reminders summary');
  await summary.waitFor({ timeout: 30_000 });
  await summary.click();
  await tom.getByRole('link', { name: /update to affected users due soon/ }).waitFor();
  assert.match(await tom.locator('.reminder-body').first().textContent(), /Scanner on floor 3 offline \(P3\)/);
  // The open reminders on a 360 px phone, light and dark: nothing for axe, nothing too wide.
  for (const scheme of ['light', 'dark']) {
    await tom.emulateMedia({ colorScheme: scheme });
    const { violations } = await new AxeBuilder({ page: tom }).include('.reminders').analyze();
    assert.deepEqual([...violations.map((v) => `${scheme}: ${v.id}: ${v.help}`), ...(await audit(tom))], []);
  }
  // Still without the relay: it says Offline, or Connecting… while it tries again.
  assert.match(await tom.locator('.sync-label').textContent(), /^(Offline|Connecting…)$/);
  assert.deepEqual(withoutOfflineNoise(tomErrors), []);
  assert.deepEqual(withoutOfflineNoise(adminErrors), []);
});
