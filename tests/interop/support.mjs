// What both interoperability files share: cleanups that all run at the end of the file, and
// waiting for a condition (polling, never a fixed sleep).
import { after } from 'node:test';

/** Functions to run, last first, when the file's tests are done. */
export const cleanups = [];
after(async () => {
  // Every cleanup runs even if one fails, or a relay left running keeps the test process alive.
  const failed = [];
  for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch((e) => failed.push(e));
  if (failed.length) throw failed[0];
});

/** Waits until `fn` returns something truthy. */
export async function until(fn, message, timeout = 20_000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${message}`);
}
