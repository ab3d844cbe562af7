// Two technicians, one relay: changes flow live; both work while the relay is down, including on
// the same field of the same incident; when it returns they converge, every note is kept, and the
// field they both changed is shown as a conflict to settle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from './support/relay.mjs';
import { launchBrowser, phoneContext, watchErrors } from './support/browser.mjs';
import { openApp, logIncident, syncStatus as status, until, upToDate, withoutOfflineNoise } from './support/app.mjs';

let relay, browser;
before(async () => {
  relay = await Relay.start({ dev: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.dispose();
});


async function addWorkNote(page, text) {
  await page.getByLabel('Work note', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Add work note' }).click();
  await page.getByText(text).first().waitFor();
}

async function setAssignee(page, name) {
  await page.getByRole('button', { name: 'Edit details' }).click();
  await page.getByLabel('Assignee').fill(name);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('button', { name: 'Edit details' }).waitFor();
}

test('two browsers converge through the relay, live and after working offline', { timeout: 240_000 }, async () => {
  const [ca, cb] = [await phoneContext(browser), await phoneContext(browser)];
  const [ana, ben] = [await ca.newPage(), await cb.newPage()];
  const errors = [watchErrors(ana), watchErrors(ben)];
  await openApp(ana, relay.url, 'Ana Field');
  await openApp(ben, relay.url, 'Ben Tech');
  await upToDate(ana);
  await upToDate(ben);

  // Live: Ana logs it, Ben sees it appear without reloading.
  const url = await logIncident(ana, { title: 'Core switch flapping', impact: '1', urgency: '2' });
  await ben.getByRole('link', { name: /Core switch flapping/ }).click();
  await ben.getByRole('heading', { level: 1, name: /Core switch flapping/ }).waitFor();
  assert.equal(ben.url(), url);

  // The relay goes away. Both keep working.
  await relay.stop();
  await until(async () => (await status(ana)) === 'Offline', { message: 'ana sees offline' });
  await until(async () => (await status(ben)) === 'Offline', { message: 'ben sees offline' });
  await addWorkNote(ana, 'Ana: replaced the SFP on port 12.');
  await addWorkNote(ben, 'Ben: spanning tree recalculated at 09:40.');
  await setAssignee(ana, 'Ana Field');
  await setAssignee(ben, 'Ben Tech');
  await ana.getByText('1 change not yet synced').or(ana.getByText(/changes not yet synced/)).first().waitFor();
  await logIncident(ana, { title: 'Logged by Ana while offline' });
  await logIncident(ben, { title: 'Logged by Ben while offline' });

  // The relay returns on the same address with the same data.
  await relay.restart();
  await upToDate(ana, 90_000);
  await upToDate(ben, 90_000);
  for (const page of [ana, ben]) {
    await until(async () => (await page.getByText(/not yet synced/).count()) === 0, { message: 'nothing left to send' });
  }

  for (const [page, other] of [[ana, 'Logged by Ben while offline'], [ben, 'Logged by Ana while offline']]) {
    await page.getByRole('link', { name: 'Incidents', exact: true }).click();
    await page.getByRole('link', { name: new RegExp(other) }).waitFor({ timeout: 30_000 });
  }
  for (const page of [ana, ben]) {
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: /Core switch flapping/ }).waitFor();
    await page.getByText('Ana: replaced the SFP on port 12.').first().waitFor({ timeout: 30_000 });
    await page.getByText('Ben: spanning tree recalculated at 09:40.').first().waitFor({ timeout: 30_000 });
    const conflicts = page.getByRole('region', { name: /conflict/ });
    await conflicts.getByRole('heading', { name: 'Assignee' }).waitFor({ timeout: 30_000 });
    await conflicts.getByRole('button', { name: 'Keep “Ana Field”' }).waitFor();
    await conflicts.getByRole('button', { name: 'Keep “Ben Tech”' }).waitFor();
  }

  // Ben settles it; Ana sees it settled.
  await ben.getByRole('button', { name: 'Keep “Ana Field”' }).click();
  await until(async () => (await ben.getByRole('region', { name: /conflict/ }).count()) === 0, { message: 'settled on Ben' });
  await until(async () => (await ana.getByRole('region', { name: /conflict/ }).count()) === 0, { timeout: 30_000, message: 'settled on Ana' });
  await ana.getByRole('region', { name: 'Timeline' }).getByText('Settled conflicting assignee: kept Ana Field').waitFor();
  assert.deepEqual(withoutOfflineNoise(errors[0]), []);
  assert.deepEqual(withoutOfflineNoise(errors[1]), []);
});
