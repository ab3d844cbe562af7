// People with different roles on one relay: a viewer's app reads and changes nothing; an agent
// works an incident to Resolved and sees Close disabled, with the reason, because closing is the
// manager's; a manager closes it. The app learns its role from the relay, which enforces it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Relay } from './support/relay.mjs';
import { launchBrowser, phoneContext, watchErrors } from './support/browser.mjs';
import { openApp, logIncident, until } from './support/app.mjs';

const run = promisify(execFile);
let relay, browser;
before(async () => {
  relay = await Relay.start({ dev: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.dispose();
});

/**
 * A browser signed in with a development token of `role` (in `groups`, comma-separated), pasted
 * into Settings as a person would.
 */
async function signedIn(name, role, groups = '') {
  const query = `user=${encodeURIComponent(name)}&role=${role}&groups=${encodeURIComponent(groups)}`;
  const { token } = await (await fetch(new URL(`/api/dev-token?${query}`, relay.url))).json();
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await openApp(page, relay.url, name);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('button', { name: 'Reconnect now' }).click();
  const article = role === 'agent' || role === 'admin' ? 'an' : 'a';
  const where = groups ? `in ${groups.split(',').sort().join(', ')}` : 'in no group';
  await page.getByText(new RegExp(`This device signs in as ${article} ${role} \\(.*\\), ${where}\\.`)).waitFor({ timeout: 20_000 });
  await page.getByRole('link', { name: 'Incidents' }).click();
  return { page, errors };
}

async function resolve(page) {
  await page.getByRole('button', { name: 'Start work', exact: true }).click();
  await page.locator('.badge.state', { hasText: 'In Progress' }).waitFor();
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await page.getByLabel('Resolution code').selectOption({ label: 'Solution provided' });
  await page.getByLabel('Resolution notes').fill('Replaced the access point.');
  await page.getByRole('button', { name: 'Confirm resolution' }).click();
  await page.locator('.badge.state', { hasText: 'Resolved' }).waitFor();
}

test('an agent cannot close, and is told why; a manager can; a viewer only reads', { timeout: 180_000 }, async () => {
  const agent = await signedIn('Ana Agent', 'agent');
  const url = await logIncident(agent.page, { title: 'Wi-Fi down in the warehouse' });
  await resolve(agent.page);
  const close = agent.page.getByRole('button', { name: 'Close', exact: true });
  assert.equal(await close.isDisabled(), true, 'Close is disabled for an agent');
  // The reason is shown, and is the button's accessible description.
  await agent.page.getByText('Closing needs the manager role').waitFor();
  const described = await close.getAttribute('aria-describedby');
  assert.equal(await agent.page.locator(`#${described}`).textContent(), 'Closing needs the manager role');
  assert.equal(await agent.page.getByRole('button', { name: 'Reopen', exact: true }).isDisabled(), false);

  const manager = await signedIn('Mona Manager', 'manager');
  await manager.page.goto(url);
  await manager.page.locator('.badge.state', { hasText: 'Resolved' }).waitFor();
  await manager.page.getByRole('button', { name: 'Close', exact: true }).click();
  await manager.page.getByRole('button', { name: 'Confirm close' }).click();
  await manager.page.locator('.badge.state', { hasText: 'Closed' }).waitFor();
  // The agent's app follows: the relay accepted the manager's close.
  await agent.page.locator('.badge.state', { hasText: 'Closed' }).waitFor({ timeout: 20_000 });

  const viewer = await signedIn('Val Viewer', 'viewer');
  await until(async () => (await viewer.page.getByRole('link', { name: 'New incident' }).count()) === 0, { message: 'New incident to leave the navigation' });
  // (The list shows open incidents first; the closed one is opened from its address.)
  await viewer.page.goto(url);
  await viewer.page.getByRole('heading', { level: 1, name: /Wi-Fi down in the warehouse/ }).waitFor();
  // Closed anyway; a viewer also sees no note boxes on an open incident (below).
  assert.equal(await viewer.page.getByRole('button', { name: /^Add / }).count(), 0);

  // An open incident, as the viewer sees it: the notice, no actions, no note boxes, no editing.
  await logIncident(agent.page, { title: 'Printer queue stuck' });
  await viewer.page.getByRole('link', { name: 'Incidents' }).click();
  await viewer.page.getByRole('link', { name: /Printer queue stuck/ }).click();
  await viewer.page.getByText('You can read incidents here; changing them needs the agent role.').waitFor();
  for (const name of ['Start work', 'Add work note', 'Add comment', 'Edit details']) {
    assert.equal(await viewer.page.getByRole('button', { name, exact: true }).count(), 0, `${name} is not offered to a viewer`);
  }
  await viewer.page.goto(new URL('/incidents/new', relay.url).href);
  await viewer.page.getByText('Logging an incident needs the agent role.', { exact: false }).waitFor();
  assert.equal(await viewer.page.getByRole('button', { name: 'Create incident' }).isVisible(), false);
  for (const [who, p] of Object.entries({ agent, manager, viewer })) assert.deepEqual(p.errors, [], who);
});

test('a role lowered while a device is offline: its refused close is shown, copied and discarded, then it syncs again', { timeout: 180_000 }, async () => {
  const mona = await signedIn('Mona Offline', 'manager');
  const url = await logIncident(mona.page, { title: 'Badge reader dead at gate 4' });
  await resolve(mona.page);
  await until(async () => (await mona.page.locator('.sync-label').textContent()) === 'Up to date', { timeout: 30_000, message: 'the resolve to reach the relay' });

  // The device goes offline; meanwhile an admin lowers the token to agent.
  await relay.stop();
  await until(async () => (await mona.page.locator('.sync-label').textContent()) === 'Offline', { message: 'offline' });
  const { stdout } = await run(process.env.OUTPOST_RELAY, ['token', 'list', '--data-dir', relay.dataDir]);
  const id = stdout.split('\n').find((l) => l.includes('\tMona Offline\t')).split('\t')[0];
  await run(process.env.OUTPOST_RELAY, ['token', 'role', id, 'agent', '--data-dir', relay.dataDir]);

  // Offline, the app still knows her as a manager, so she closes it in good faith.
  await mona.page.getByRole('button', { name: 'Close', exact: true }).click();
  await mona.page.getByRole('button', { name: 'Confirm close' }).click();
  await mona.page.locator('.badge.state', { hasText: 'Closed' }).waitFor();

  await relay.restart();
  const banner = mona.page.getByRole('alert').filter({ hasText: 'A change was refused' });
  await banner.waitFor({ timeout: 30_000 });
  await banner.getByText(/Your change to INC-[0-9A-F]{4}-\d{4} was refused: closing needs the manager role\./).waitFor();
  assert.match(await mona.page.getByLabel('Refused text').inputValue(), /closed/);
  // The app now knows the lowered role.
  await mona.page.getByText('Closing needs the manager role').first().waitFor();

  await banner.getByRole('button', { name: 'Discard refused changes' }).click();
  await mona.page.getByText('The refused changes were discarded; this incident syncs again.').waitFor();
  await mona.page.locator('.badge.state', { hasText: 'Resolved' }).waitFor();
  assert.equal(await mona.page.getByRole('alert').filter({ hasText: 'A change was refused' }).count(), 0);

  // In step again: a new note reaches a colleague, and the discard survives a reload.
  await mona.page.getByLabel('Work note', { exact: true }).fill('Reader replaced; waiting for a manager to close.');
  await mona.page.getByRole('button', { name: 'Add work note' }).click();
  await until(async () => (await mona.page.locator('.sync-label').textContent()) === 'Up to date', { timeout: 30_000, message: 'the note to sync' });
  const colleague = await signedIn('Bea Colleague', 'agent');
  await colleague.page.goto(url);
  await colleague.page.getByText('Reader replaced; waiting for a manager to close.').first().waitFor({ timeout: 30_000 });
  await colleague.page.locator('.badge.state', { hasText: 'Resolved' }).waitFor();
  // The timeline says when each change reached the relay (from its audit).
  await colleague.page.locator('.timeline-meta', { hasText: 'reached the relay' }).first().waitFor({ timeout: 20_000 });
  await mona.page.reload();
  await mona.page.locator('.badge.state', { hasText: 'Resolved' }).waitFor();
  assert.equal(await mona.page.getByRole('alert').filter({ hasText: 'A change was refused' }).count(), 0);
  for (const [who, p] of Object.entries({ mona, colleague })) assert.deepEqual(p.errors, [], who);
});

test('an incident written by the official automerge-repo, following docs/incident-schema.md, shows in the app', { timeout: 120_000 }, async () => {
  // automerge-repo is the interoperability suite's dependency; setup installs both suites.
  const { Repo, ImmutableString } = await import('../interop/node_modules/@automerge/automerge-repo/dist/entrypoints/fullfat.js');
  const { WebSocketClientAdapter } = await import('../interop/node_modules/@automerge/automerge-repo-network-websocket/dist/index.js');
  const { token } = await (await fetch(new URL('/api/dev-token?user=script&role=agent', relay.url))).json();
  const repo = new Repo({ network: [new WebSocketClientAdapter(`ws://127.0.0.1:${relay.port}/sync?token=${token}`)] });
  try {
    const now = new Date();
    const handle = repo.create({
      type: new ImmutableString('outpost/incident'), schema: 1, reference: new ImmutableString('INC-JS02-0007'),
      reported_at: now, reported_by: 'monitoring-bridge',
      title: 'Disk 95% full on db-7', description: 'Raised by a script through automerge-repo', caller: 'Monitoring',
      category: 'Hardware', subcategory: '', affected_service: 'Billing database',
      detection_source: 'monitoring', detected_at: now, impact: 2, urgency: 1,
      assignment_group: 'DBA', assignee: '', escalation: 'level_1', major_incident: false,
      state: 'new', resolution_code: '', resolution_notes: '', parent: '', duplicate_of: '',
      affected_users: {}, references: {}, work_notes: [], comments: [], status_updates: [],
      review: { overview: '', impact_analysis: '', root_cause: '', corrective_actions: '', lessons_learned: '', appendices: '' },
    });
    const viewer = await signedIn('Val Reader', 'viewer');
    await viewer.page.getByRole('link', { name: /Disk 95% full on db-7/ }).click({ timeout: 30_000 });
    await viewer.page.getByRole('heading', { level: 1, name: 'INC-JS02-0007: Disk 95% full on db-7' }).waitFor();
    await viewer.page.getByText('Raised by a script through automerge-repo').waitFor();
    assert.ok(viewer.page.url().endsWith(handle.documentId));
    assert.deepEqual(viewer.errors, []);
  } finally {
    // Its adapter asserts (synchronously) on a socket already closed; a failure above matters.
    try {
      await repo.shutdown();
    } catch {}
  }
});

test('an incident restricted to security leaves the app of someone outside it, who is told', { timeout: 180_000 }, async () => {
  const sam = await signedIn('Sam Security', 'agent', 'security');
  const dan = await signedIn('Dan Desk', 'agent');
  const title = 'Phishing mail with a payroll link';
  await logIncident(sam.page, { title });
  const row = dan.page.getByRole('link', { name: new RegExp(title) });
  await row.waitFor({ timeout: 20_000 });

  // Restricting it to a group Sam is not in is refused in the form, with the reason.
  await sam.page.getByRole('button', { name: 'Edit details' }).click();
  const restricted = sam.page.getByLabel('Restricted to groups');
  await restricted.fill('legal');
  await sam.page.getByRole('button', { name: 'Save changes' }).click();
  await sam.page.getByText('Restrict it to at least one of your own groups (yours: security)').waitFor();
  await restricted.fill('security');
  await sam.page.getByRole('button', { name: 'Save changes' }).click();
  await sam.page.locator('.badge-restricted', { hasText: 'Restricted to security' }).waitFor();

  // Dan's app is told, drops it, and does not get it back after a reload.
  await dan.page.getByText(/is no longer shared with you \(it was restricted to groups you are not in\) and was removed from this device/).waitFor({ timeout: 20_000 });
  await row.waitFor({ state: 'detached' });
  await dan.page.reload();
  await dan.page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  await until(async () => (await dan.page.getByRole('link', { name: /^Sync:/ }).textContent()) === 'Sync: Up to date', { timeout: 20_000, message: 'dan up to date' });
  assert.equal(await row.count(), 0, 'the restricted incident is not listed after a reload');

  // Sam works it as before.
  await sam.page.getByLabel('Work note', { exact: true }).fill('Blocked the sender domain');
  await sam.page.getByRole('button', { name: 'Add work note' }).click();
  await sam.page.locator('.note-work_note .note-body', { hasText: 'Blocked the sender domain' }).waitFor();
  assert.deepEqual(sam.errors, []);
  assert.deepEqual(dan.errors, []);
});

test('two devices that chose the same prefix never number incidents alike', { timeout: 120_000 }, async () => {
  const choose = async (page, chosen) => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Device prefix').fill(chosen);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('button', { name: 'Reconnect now' }).click();
    await page.getByText('The relay confirmed no other device of the workspace has it.').waitFor({ timeout: 20_000 });
    return page.getByLabel('Device prefix').inputValue();
  };
  const pia = await signedIn('Pia Prefix', 'agent');
  const quinn = await signedIn('Quinn Prefix', 'agent');
  assert.equal(await choose(pia.page, 'ABCD'), 'ABCD', 'the first to ask keeps it');
  const given = await choose(quinn.page, 'abcd');
  assert.notEqual(given, 'ABCD', 'the second is given another');
  assert.match(given, /^[0-9A-F]{4,5}$/);
  const url = await logIncident(quinn.page, { title: 'Numbered under the new prefix' });
  assert.ok(url);
  await quinn.page.getByRole('heading', { level: 1, name: new RegExp(`^INC-${given}-\\d{4}`) }).waitFor();
  assert.deepEqual(pia.errors, []);
  assert.deepEqual(quinn.errors, []);
});
