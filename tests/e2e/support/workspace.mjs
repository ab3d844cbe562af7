// People joining a workspace by invitation and opening its settings, as the workspace and
// notification tests need: the operator's command line makes the link, the person opens it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { phoneContext } from './browser.mjs';
import { until } from './app.mjs';

const run = promisify(execFile);

/** Runs an `outpost-relay` subcommand on `relay`'s data; what it printed, trimmed. */
export async function cli(relay, ...args) {
  const { stdout } = await run(process.env.OUTPOST_RELAY, [...args, '--data-dir', relay.dataDir]);
  return stdout.trim();
}

/** Joins workspace acme as `user` with `role` through an invitation link, in a phone-sized
 *  context of its own (`context` options, and `init`, a script run before each page's own);
 *  returns the page at the list, synced. */
export async function joined(relay, browser, user, role, { context: options = {}, init } = {}) {
  const link = await cli(relay, 'invite', 'create', '--workspace', 'acme', '--user', user, '--role', role, '--url', relay.url);
  const context = await phoneContext(browser, options);
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole('heading', { name: 'Join a workspace', level: 1 }).waitFor();
  await page.getByRole('button', { name: `Join as ${user}` }).click();
  await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  await until(async () => (await page.locator('.sync-label').textContent()) === 'Up to date', { timeout: 20_000, message: `${user} synced` });
  return page;
}

/** Opens one part of the workspace's settings ("SLA targets", "Groups and people", ...). */
export async function openPart(page, part) {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: /^Workspace:/ }).click();
  await page.getByRole('heading', { name: 'Workspace', level: 1 }).waitFor();
  await page.getByRole('link', { name: part }).click();
}
