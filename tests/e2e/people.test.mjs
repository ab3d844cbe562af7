// Signing in by invitation, on a relay without development mode, as a real team would: an admin
// (herself invited with the CLI) invites a technician from the app; his phone opens the link,
// joins and works as him; the admin revokes the phone and its open page is told. One browser
// signed in to two workspaces keeps them apart, on the device and at the relay, and signing out
// leaves nothing behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Relay } from './support/relay.mjs';
import { launchBrowser, phoneContext, watchErrors } from './support/browser.mjs';
import { logIncident, until } from './support/app.mjs';

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

/** The relay's CLI on its data, as an operator runs it. */
async function cli(...args) {
  const { stdout } = await run(process.env.OUTPOST_RELAY, [...args, '--data-dir', relay.dataDir]);
  return stdout.trim();
}

const invite = (workspace, user, role = 'agent') =>
  cli('invite', 'create', '--workspace', workspace, '--user', user, '--role', role, '--url', relay.url);

/** Opens an invitation link and joins as a device called `device`; returns at the incident list. */
async function join(page, link, user, device) {
  await page.goto(link);
  await page.getByRole('heading', { name: 'Join a workspace', level: 1 }).waitFor();
  await page.getByLabel('Name of this device').fill(device);
  await page.getByRole('button', { name: `Join as ${user}` }).click();
  await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
}

const upToDate = (page) =>
  until(async () => (await page.locator('.sync-label').textContent()) === 'Up to date'
    && (await page.getByText(/not yet synced/).count()) === 0, { timeout: 20_000, message: 'everything synced' });

/** Who delivered the changes of a document, as the relay's audit says to a token of `workspace`. */
async function deliveredBy(token, url) {
  const id = new URL(url).pathname.split('/').pop();
  const r = await fetch(new URL(`/api/audit/${id}`, relay.url), { headers: { Authorization: `Bearer ${token}` } });
  const { arrivals } = await r.json();
  return [...new Set(arrivals.map((a) => a.user))];
}

test('an admin invites from the app, the phone that opens the link works as that person, and is told when revoked', { timeout: 180_000 }, async () => {
  const admin = await (await phoneContext(browser)).newPage();
  const adminErrors = watchErrors(admin);
  await join(admin, await invite('acme', 'Ada Admin', 'admin'), 'Ada Admin', 'Ada laptop');
  await admin.getByRole('link', { name: 'Settings' }).click();
  await admin.getByText('Signed in as Ada Admin to workspace acme.').waitFor();
  await admin.getByRole('group', { name: 'People and devices' }).waitFor({ timeout: 20_000 });
  await admin.getByLabel("Person's name").fill('Tom Tech');
  await admin.getByLabel('Role').selectOption('agent');
  await admin.getByRole('button', { name: 'Create invitation' }).click();
  await admin.getByRole('img', { name: 'QR code of the invitation link for Tom Tech' }).waitFor();
  const link = await admin.getByLabel('Invitation link', { exact: true }).inputValue();
  assert.match(link, /\/join#inv_[0-9a-f]{32}$/);

  const phoneContextForTom = await phoneContext(browser);
  const phone = await phoneContextForTom.newPage();
  await join(phone, link, 'Tom Tech', "Tom's phone");
  const url = await logIncident(phone, { title: 'Printer jammed on floor 2' });
  await upToDate(phone);
  // The relay recorded the incident as Tom's, from his own token; the admin's app has it.
  const checker = await cli('token', 'create', '--workspace', 'acme', '--user', 'checker', '--role', 'viewer');
  assert.deepEqual(await deliveredBy(checker, url), ['Tom Tech']);
  await admin.getByRole('link', { name: 'Incidents' }).click();
  await admin.getByRole('link', { name: /Printer jammed on floor 2/ }).waitFor({ timeout: 20_000 });

  // The same link on another device is refused, with what to do.
  const late = await (await phoneContext(browser)).newPage();
  await late.goto(link);
  await late.getByRole('heading', { name: 'This invitation cannot be used', level: 1 }).waitFor();
  await late.getByText(/already used to sign in a device.*Ask your administrator/).waitFor();

  // Lost phone: the admin revokes it, and its open page is told within seconds.
  await admin.getByRole('link', { name: 'Settings' }).click();
  await admin.getByRole('button', { name: 'Refresh devices' }).click();
  await admin.getByText(/Tom Tech: Tom's phone, agent, seen/).waitFor();
  await admin.getByRole('button', { name: "Revoke Tom's phone of Tom Tech" }).click();
  await admin.getByText("Tom's phone of Tom Tech is signed out").waitFor();
  await phone.getByText(/The relay ended this device's sign-in \(this device's sign-in was revoked\)/).waitFor({ timeout: 5_000 });
  assert.deepEqual(adminErrors, []);
});

test('two workspaces in one browser never mix, and signing out leaves nothing behind', { timeout: 180_000 }, async () => {
  const context = await phoneContext(browser);
  const south = await context.newPage();
  await join(south, await invite('south', 'Sam South'), 'Sam South', 'Shared tablet');
  const synced = await logIncident(south, { title: 'South: core switch down' });
  await upToDate(south);
  // Work not yet sent when the tablet changes hands.
  await context.setOffline(true);
  const unsent = await logIncident(south, { title: 'South: logged offline' });
  await south.getByText(/1 change not yet synced/).waitFor();
  await south.close();
  await context.setOffline(false);

  const north = await context.newPage();
  await join(north, await invite('north', 'Nia North'), 'Nia North', 'Shared tablet');
  const mine = await logIncident(north, { title: 'North: badge reader offline' });
  await upToDate(north);
  await north.getByRole('link', { name: 'Incidents' }).click();
  await north.getByRole('link', { name: /North: badge reader offline/ }).waitFor();
  assert.equal(await north.getByRole('link', { name: /South:/ }).count(), 0, "south's incidents are not on north's sign-in");

  // The relay's view of each workspace: north has only Nia's incident, south only Sam's.
  const northToken = await cli('token', 'create', '--workspace', 'north', '--user', 'n-check', '--role', 'viewer');
  const southToken = await cli('token', 'create', '--workspace', 'south', '--user', 's-check', '--role', 'viewer');
  assert.deepEqual(await deliveredBy(northToken, mine), ['Nia North']);
  assert.deepEqual(await deliveredBy(northToken, synced), [], "south's synced incident is not in north");
  assert.deepEqual(await deliveredBy(northToken, unsent), [], "south's unsent incident is not in north");
  assert.deepEqual(await deliveredBy(southToken, mine), [], "north's incident is not in south");

  // Back to south: its unsent incident is there and goes to south.
  await north.getByRole('link', { name: 'Settings' }).click();
  await north.getByRole('button', { name: 'Switch to Sam South in south' }).click();
  await north.getByRole('link', { name: /South: logged offline/ }).waitFor({ timeout: 20_000 });
  await upToDate(north);
  assert.deepEqual(await deliveredBy(southToken, unsent), ['Sam South']);

  // Sam signs out: warned first, then the sign-in's database and settings are gone.
  await north.getByRole('link', { name: 'Settings' }).click();
  await north.getByRole('button', { name: 'Sign out', exact: true }).click();
  await north.getByText('Every change on this device is on the relay: nothing will be lost.').waitFor();
  await north.getByRole('button', { name: "Sign out and delete this device's data" }).click();
  await north.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  await until(async () => {
    const names = await north.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    return !names.some((n) => n.includes('south'));
  }, { message: "south's database to be deleted" });
  assert.equal(await north.getByRole('link', { name: /South:/ }).count(), 0);
  const southToken2 = await north.evaluate(() => Object.keys(localStorage).filter((k) => k.includes('south')));
  assert.deepEqual(southToken2, [], 'no settings (and no token) of south are left');
  // The signed-out token opens nothing at the relay any more.
  const devices = await cli('token', 'list');
  assert.match(devices.split('\n').find((l) => l.includes('Sam South')), /\trevoked\t/);
});
