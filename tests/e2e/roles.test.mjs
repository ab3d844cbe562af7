// People with different roles on one relay: a viewer's app reads and changes nothing; an agent
// works an incident to Resolved and sees Close disabled, with the reason, because closing is the
// manager's; a manager closes it. The app learns its role from the relay, which enforces it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from './support/relay.mjs';
import { launchBrowser, phoneContext, watchErrors } from './support/browser.mjs';
import { openApp, logIncident, until } from './support/app.mjs';

let relay, browser;
before(async () => {
  relay = await Relay.start({ dev: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.dispose();
});

/** A browser signed in with a development token of `role`, pasted into Settings as a person would. */
async function signedIn(name, role) {
  const { token } = await (await fetch(new URL(`/api/dev-token?user=${encodeURIComponent(name)}&role=${role}`, relay.url))).json();
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await openApp(page, relay.url, name);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('button', { name: 'Reconnect now' }).click();
  await page.getByText(`This device signs in as a${role === 'agent' || role === 'admin' ? 'n' : ''} ${role}`).waitFor({ timeout: 20_000 });
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
