// The workspace's own rules and people, edited in the app: an admin shortens P2's resolution
// target and adds a group and a person in one browser; an agent's browser, signed in to the same
// workspace, sees the new due time on a new P2 incident and can pick the new person, and may read
// the settings but not change them.
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

async function cli(...args) {
  const { stdout } = await run(process.env.OUTPOST_RELAY, [...args, '--data-dir', relay.dataDir]);
  return stdout.trim();
}

/** Joins `workspace` as `user` with `role` through an invitation link; returns at the list. */
async function joined(user, role) {
  const link = await cli('invite', 'create', '--workspace', 'acme', '--user', user, '--role', role, '--url', relay.url);
  const page = await (await phoneContext(browser)).newPage();
  await page.goto(link);
  await page.getByRole('heading', { name: 'Join a workspace', level: 1 }).waitFor();
  await page.getByRole('button', { name: `Join as ${user}` }).click();
  await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  await until(async () => (await page.locator('.sync-label').textContent()) === 'Up to date', { timeout: 20_000, message: `${user} synced` });
  return page;
}

async function openPart(page, part) {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: /^Workspace:/ }).click();
  await page.getByRole('heading', { name: 'Workspace', level: 1 }).waitFor();
  await page.getByRole('link', { name: part }).click();
}

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
