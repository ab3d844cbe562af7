// Knowledge kept: a resolved incident becomes a draft article, a manager publishes it, and on a
// colleague's device, offline, it is suggested while a matching incident is logged and on its
// page, where "Resolved using" records it and the article counts the use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from './support/relay.mjs';
import { launchBrowser, watchErrors } from './support/browser.mjs';
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

const synced = (page) => until(async () => (await page.locator('.sync-label').textContent()) === 'Up to date', { timeout: 30_000, message: 'sync up to date' });

test('an article written from a resolved incident is published and suggested on a new matching incident offline', { timeout: 180_000 }, async () => {
  const writer = await (await browser.newContext()).newPage();
  const writerErrors = watchErrors(writer);
  await openApp(writer, relay.url, 'Kai Writer');
  await logIncident(writer, { title: 'Mail server rejects logins after patch', description: 'Outlook asks for the password again and again.' });
  await writer.getByRole('button', { name: 'Resolve', exact: true }).click();
  await writer.getByLabel('Resolution code').selectOption({ label: 'Solution provided' });
  await writer.getByLabel('Resolution notes').fill('Rolled back patch KB5031 on the mail server.');
  await writer.getByRole('button', { name: 'Confirm resolution' }).click();
  await writer.getByRole('heading', { name: 'Post-incident review' }).waitFor();

  await writer.getByRole('button', { name: 'Create knowledge article' }).click();
  const heading = writer.getByRole('heading', { level: 1, name: /^KB-[0-9A-F]{4}-0001: Mail server rejects logins after patch$/ });
  await heading.waitFor();
  const number = (await heading.textContent()).split(':')[0];
  assert.equal(await writer.getByLabel('Symptoms').inputValue(), 'Outlook asks for the password again and again.');
  assert.equal(await writer.getByLabel('Resolution or workaround').inputValue(), 'Rolled back patch KB5031 on the mail server.');
  await writer.getByLabel('Service').fill('Corporate email');
  await writer.getByRole('button', { name: 'Save article' }).click();
  await writer.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await writer.getByRole('button', { name: 'Publish' }).click();
  await writer.getByRole('status').filter({ hasText: 'Published.' }).waitFor();
  await writer.getByRole('link', { name: /INC-/ }).first().waitFor(); // written from the incident
  const history = await writer.getByRole('region', { name: 'History' }).textContent();
  assert.match(history, /Published/);
  assert.match(history, new RegExp(`Wrote ${number}`));
  await synced(writer);

  // A colleague's device has it, then loses the network.
  const context = await browser.newContext();
  const colleague = await context.newPage();
  const colleagueErrors = watchErrors(colleague);
  await openApp(colleague, relay.url, 'Lou Colleague');
  await colleague.getByRole('link', { name: 'Knowledge' }).click();
  await colleague.getByLabel('Search articles').fill('logins patch');
  await colleague.getByRole('link', { name: new RegExp(`${number} Mail server rejects logins`) }).waitFor({ timeout: 30_000 });
  await context.setOffline(true);

  await colleague.getByRole('link', { name: 'New incident' }).click();
  await colleague.getByLabel('Title').fill('Users cannot log in to mail after the patch');
  const hint = colleague.getByRole('region', { name: 'Knowledge that may help' });
  await hint.getByText(`${number} Mail server rejects logins after patch`).waitFor();
  await colleague.getByLabel('Caller').fill('Dana Reyes');
  await colleague.getByRole('button', { name: 'Create incident' }).click();
  await colleague.getByRole('heading', { level: 1, name: /Users cannot log in to mail after the patch/ }).waitFor();

  const panel = colleague.getByRole('region', { name: 'Knowledge' });
  await panel.getByText('Rolled back patch KB5031 on the mail server.').waitFor();
  await panel.getByRole('button', { name: `Resolved using ${number}` }).click();
  await panel.getByRole('status').filter({ hasText: `Recorded: resolved using ${number}.` }).waitFor();
  await colleague.getByRole('link', { name: 'Knowledge' }).click();
  const row = colleague.getByRole('listitem').filter({ hasText: number });
  await until(async () => /Used on 1 incident/.test(await row.textContent()), { message: 'the use counted' });

  await context.setOffline(false);
  await synced(colleague);
  assert.deepEqual(writerErrors, []);
  assert.deepEqual(colleagueErrors.filter((e) => !/ERR_INTERNET_DISCONNECTED|WebSocket/.test(e)), []);
});
