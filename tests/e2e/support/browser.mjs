// Launches Debian's Chromium through playwright-core (no browser download), and guards every
// test: a page that throws an uncaught error or logs a Rust panic fails the test it happened in.
import { chromium } from 'playwright-core';
import { afterEach } from 'node:test';

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

// One guard for every test in every file: the test fails if any page crashed while it ran.
afterEach(() => {
  const seen = crashes.splice(0);
  if (seen.length) throw new Error(`the app crashed during this test:\n${seen.join('\n')}`);
});

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
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
