// The release build's post_build hook (scripts/pwa-post-build.mjs), run as Trunk runs it on a
// small staged build: release builds get a service worker whose file list is the build and whose
// version follows the files' contents; debug builds get nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import vm from 'node:vm';

const HOOK = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'pwa-post-build.mjs');

async function stage(files) {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-stage-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

const runHook = (dir, profile) =>
  promisify(execFile)(process.execPath, [HOOK], {
    env: { ...process.env, TRUNK_STAGING_DIR: dir, TRUNK_PROFILE: profile, TRUNK_PUBLIC_URL: '/' },
  });

const BUILD = {
  'index.html': '<!DOCTYPE html><html><head><title>Outpost</title></head><body></body></html>',
  'outpost-0123abcd.js': 'console.log("app");'.repeat(100),
  'outpost-0123abcd_bg.wasm': 'wasm',
  'icons/outpost-192.png': 'png',
  'manifest.webmanifest': '{}',
};

/** Evaluates the generated sw.js far enough to read VERSION and FILES. */
function constants(source) {
  const sandbox = { self: { registration: { scope: 'http://127.0.0.1/' }, location: { origin: 'http://127.0.0.1' }, addEventListener() {} }, URL };
  vm.runInNewContext(`${source}\nthis.out = { VERSION, FILES };`, sandbox);
  return sandbox.out;
}

test('a release build gets a service worker listing every file, and the registration flag', async () => {
  const dir = await stage(BUILD);
  try {
    await runHook(dir, 'release');
    const { VERSION, FILES } = constants(await readFile(join(dir, 'sw.js'), 'utf8'));
    assert.match(VERSION, /^[0-9a-f]{16}$/);
    assert.deepEqual([...FILES], Object.keys(BUILD).sort());
    assert.match(await readFile(join(dir, 'index.html'), 'utf8'), /<meta name="outpost-sw" content="\/sw.js" \/>\s*<\/head>/);
    await access(join(dir, 'outpost-0123abcd.js.br'));
    await access(join(dir, 'outpost-0123abcd.js.gz'));

    // The same files give the same version; a changed file gives a new one; the compressed
    // copies are never precached.
    await runHook(dir, 'release');
    const again = constants(await readFile(join(dir, 'sw.js'), 'utf8'));
    assert.equal(again.VERSION, VERSION);
    assert.deepEqual([...again.FILES], Object.keys(BUILD).sort());
    await writeFile(join(dir, 'outpost-0123abcd_bg.wasm'), 'wasm, rebuilt');
    await runHook(dir, 'release');
    assert.notEqual(constants(await readFile(join(dir, 'sw.js'), 'utf8')).VERSION, VERSION);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a debug build is left alone: no service worker, no flag', async () => {
  const dir = await stage(BUILD);
  try {
    await runHook(dir, 'debug');
    await assert.rejects(access(join(dir, 'sw.js')));
    assert.equal(await readFile(join(dir, 'index.html'), 'utf8'), BUILD['index.html']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
