// After resolution: the post-incident review, and its report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from './support/relay.mjs';
import { launchBrowser, phoneContext } from './support/browser.mjs';
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

test('a resolved incident takes a review, and the report includes it with the timeline', { timeout: 90_000 }, async () => {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  await openApp(page, relay.url);
  await logIncident(page, { title: 'Email service outage', impact: '1', urgency: '2' });
  assert.equal(await page.getByRole('heading', { name: 'Post-incident review' }).count(), 0, 'no review before resolution');
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await page.getByLabel('Resolution code').selectOption({ label: 'Solution provided' });
  await page.getByLabel('Resolution notes').fill('Rolled back the patch.');
  await page.getByRole('button', { name: 'Confirm resolution' }).click();
  await page.getByRole('heading', { name: 'Post-incident review' }).waitFor();
  await page.getByText('A post-incident report is due').waitFor();

  const sections = {
    Overview: 'Email was down from 08:30 to 10:00.',
    'Impact analysis': 'Three departments could not send mail.',
    'Root cause': 'A security patch broke the server configuration.',
    'Corrective actions': 'Test patches in staging first.',
    'Lessons learned': 'Tell users sooner.',
  };
  for (const [label, text] of Object.entries(sections)) {
    await page.getByLabel(label, { exact: true }).fill(text);
  }
  await page.getByRole('button', { name: 'Save review' }).click();
  await until(async () => (await page.getByText('A post-incident report is due').count()) === 0, { message: 'report no longer due' });

  await page.getByRole('link', { name: 'Open the report' }).click();
  await page.getByRole('heading', { name: /Post-incident report: INC-/ }).waitFor();
  const report = page.getByRole('article');
  for (const [heading, text] of Object.entries(sections)) {
    const section = report.locator('section', { has: page.getByRole('heading', { name: heading, level: 2, exact: true }) });
    assert.equal((await section.textContent()).trim(), `${heading}${text}`, `the ${heading} section`);
  }
  for (const heading of ['Response timeline', 'Appendices']) await report.getByRole('heading', { name: heading, level: 2 }).waitFor();
  await report.getByRole('heading', { name: 'Communications sent', level: 3 }).waitFor();
  assert.match(await report.getByRole('table').textContent(), /Resolve: New → Resolved/);

  // Printed: only the report, on A4 or Letter.
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.getByRole('navigation', { name: 'Main' }).isVisible(), false, 'no navigation on paper');
  assert.equal(await page.getByRole('button', { name: 'Print' }).isVisible(), false, 'no buttons on paper');
  assert.ok(await report.isVisible());
  await page.emulateMedia({ media: 'screen' });
  for (const paper of ['A4', 'letter']) {
    await page.getByLabel('Paper').selectOption(paper);
    const style = await page.evaluate(() => [...document.querySelectorAll('style')].map((s) => s.textContent).join('\n'));
    assert.match(style, new RegExp(`size: ${paper} portrait`));
  }
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download report' }).click();
  assert.match((await download).suggestedFilename(), /^INC-[0-9A-F]{4}-0001-post-incident-report\.md$/);
  await page.getByRole('button', { name: 'Print' }).waitFor();
  await context.close();
});
