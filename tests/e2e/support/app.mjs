// Page helpers that act as a person does: by role and label.
/** Opens the app and introduces the user on first run. */
export async function openApp(page, url, name = 'Ana Field') {
  await page.goto(url);
  await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  const welcome = page.getByRole('form', { name: 'Welcome to Outpost' });
  if (await welcome.isVisible()) {
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await welcome.waitFor({ state: 'hidden' });
  }
}

/** Logs an incident through the form and waits for its page. Returns its URL. */
export async function logIncident(page, { title, caller = 'Dana Reyes', impact = '3', urgency = '3', description = '', assignee = '' }) {
  await page.getByRole('link', { name: 'New incident' }).click();
  await page.getByRole('heading', { name: 'New incident', level: 1 }).waitFor();
  await page.getByLabel('Title').fill(title);
  if (description) await page.getByLabel('Description').fill(description);
  await page.getByLabel('Caller').fill(caller);
  await page.getByLabel('Impact').selectOption(impact);
  await page.getByLabel('Urgency').selectOption(urgency);
  if (assignee) await page.getByLabel('Assignee').fill(assignee);
  await page.getByRole('button', { name: 'Create incident' }).click();
  await page.getByRole('heading', { level: 1, name: new RegExp(escape(title)) }).waitFor();
  return page.url();
}

export function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Waits until `fn` returns a truthy value (polling, never a fixed sleep). */
export async function until(fn, { timeout = 10_000, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${message} (last: ${last})`);
}

/** The app's sync status, as its header shows it ("Up to date", "Offline", ...). */
export const syncStatus = (page) => page.locator('.sync-label').textContent();

/** Waits until the app says it is up to date with the relay. */
export const upToDate = (page, timeout = 60_000) =>
  until(async () => (await syncStatus(page)) === 'Up to date', { timeout, message: 'sync up to date' });

/** The page errors left once the browser's own complaints about an absent relay are removed. */
export const withoutOfflineNoise = (errors) =>
  errors.filter((e) => !/WebSocket connection to .* failed|Failed to load resource|ERR_CONNECTION_REFUSED/.test(e));
