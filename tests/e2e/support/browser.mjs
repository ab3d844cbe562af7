// What every end-to-end test launches Chromium with (support/launch.mjs), and the one guard for
// every test in every file: a page that throws an uncaught error or logs a Rust panic while a
// test runs fails that test. No test has to remember to ask.
import { afterEach } from 'node:test';
import { takeCrashes } from './launch.mjs';

export * from './launch.mjs';

afterEach(() => {
  const seen = takeCrashes();
  if (seen.length) throw new Error(`the app crashed during this test:\n${seen.join('\n')}`);
});
