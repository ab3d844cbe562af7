// Launches Debian's Chromium through playwright-core (no browser download), and watches every
// page for crashes: uncaught errors and logged Rust panics. The tests import support/browser.mjs,
// which fails each test that saw one; the benchmarks import this directly.
import { chromium } from 'playwright-core';

/** Crashes seen since the current test began: uncaught page errors and logged panics. */
const crashes = [];

/** Whether a console line is the app reporting a panic (console_error_panic_hook's text). */
export function isPanic(text) {
  return /panicked at|RuntimeError: unreachable|Tried to access a reactive value/.test(text);
}

/** Watches one page for crashes. Every page of every context from `launchBrowser` is watched. */
export function guardPage(page) {
  if (page.__outpostGuarded) return page;
  page.__outpostGuarded = true;
  page.on('pageerror', (e) => crashes.push(`uncaught error on ${page.url()}: ${e.stack ?? e.message}`));
  page.on('console', (m) => {
    if (isPanic(m.text())) crashes.push(`panic on ${page.url()}: ${m.text()}`);
  });
  return page;
}

/** Watches every page a context opens (and has open). */
export function guardContext(context) {
  context.pages().forEach(guardPage);
  context.on('page', guardPage);
  return context;
}

/** Takes the crashes seen since the last call (support/browser.mjs fails tests on them). */
export function takeCrashes() {
  return crashes.splice(0);
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/** Launches Chromium; every page it opens is watched for crashes unless `guard` is false. */
export async function launchBrowser({ guard = true } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
  if (!guard) return browser;
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => guardContext(await newContext(...args));
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (...args) => guardPage(await newPage(...args));
  return browser;
}

/** A phone-sized context (360 × 740), the smallest screen Outpost supports. */
export async function phoneContext(browser, options = {}) {
  return browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, ...options });
}

/** Collects page errors so a test can assert the app never crashed. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // Failed requests are judged by URL below, not by Chromium's URL-less console line.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('response', (r) => {
    // The app asks a relay for a development token; a relay not in dev mode answers 404.
    if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith('/api/dev-token')) {
      errors.push(`${r.status()} ${r.url()}`);
    }
  });
  return errors;
}
