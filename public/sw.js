// Outpost's service worker: keeps the whole build on the device so the app starts with no network.
//
// This file is a template. A release build's post_build hook (scripts/pwa-post-build.mjs) writes it
// to dist/sw.js with VERSION (a hash of every file in the build) and FILES (every file in the
// build, relative to the scope) filled in; debug builds get no service worker at all.
//
// - install: fetch every file of this build into the cache `outpost-<VERSION>`. No skipWaiting:
//   a new version waits until the person accepts it (the app shows a banner), so a page is never
//   swapped underneath someone typing.
// - activate: delete the caches of other versions, and take control of open pages (on a first
//   install; on an update, the page that asked reloads on `controllerchange`).
// - fetch: navigations get this version's app shell (index.html) from the cache, so a deep link
//   such as /incidents/<id> opens offline; the build's files are cache-first (their names carry
//   content hashes). The relay's /sync WebSocket, /api/*, non-GET and cross-origin requests, and
//   anything not in the build, go to the network untouched. A new deployment is noticed because
//   the browser compares sw.js byte for byte on navigations and on registration.update().
// - message: {type: "SKIP_WAITING"} activates a waiting version; {type: "VERSION"} answers the
//   sender with {type: "VERSION", version}.

const VERSION = '__OUTPOST_VERSION__';
const FILES = __OUTPOST_FILES__;

const CACHE = `outpost-${VERSION}`;
const SCOPE = self.registration.scope;
const SHELL = new URL('index.html', SCOPE).href;
const PRECACHED = new Set(FILES.map((file) => new URL(file, SCOPE).href));
const PASS_THROUGH = ['api/', 'sync'].map((path) => new URL(path, SCOPE).pathname);

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // `no-cache`: revalidate with the server, so an HTTP-cached older file never gets in.
      cache.addAll([...PRECACHED].map((url) => new Request(url, { cache: 'no-cache' }))),
    ),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('outpost-') && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  const type = event.data && event.data.type;
  if (type === 'SKIP_WAITING') self.skipWaiting();
  if (type === 'VERSION' && event.source) event.source.postMessage({ type: 'VERSION', version: VERSION });
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (PASS_THROUGH.some((path) => url.pathname === path || url.pathname.startsWith(path))) return;
  // A navigation is a path whose last segment has no dot, the same rule the relay uses.
  const navigation = request.mode === 'navigate' && !url.pathname.split('/').pop().includes('.');
  if (navigation) {
    event.respondWith(fromCache(SHELL, request));
  } else if (!url.search && PRECACHED.has(url.href)) {
    event.respondWith(fromCache(url.href, request));
  }
});

/** This version's copy of `key`, else the network (and the copy is put back for next time). */
async function fromCache(key, request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(key);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && key !== SHELL) await cache.put(key, response.clone());
  return response;
}
