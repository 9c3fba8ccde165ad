/* global self, caches, fetch, Response -- a service worker script: its globals, not the DOM's */
/*
 * callwire's service worker: it keeps the app shell (the page, its hashed scripts and styles,
 * the manifest and the icon) so the app opens without a network and says it is offline, and it
 * never keeps anything else: the API, health and metrics, and the WebSocket always go to the
 * server.
 *
 * Pages are fetched network first, so a new version is used as soon as the server has one (and
 * its new hashed files are fetched with it); the cached page is only for when the server cannot
 * be reached. Hashed files never change under one name, so they are served from the cache.
 * A new sw.js (a changed CACHE name) replaces the old worker at once and drops its cache.
 */
const CACHE = 'callwire-shell-v1';
const SHELL = ['/', '/manifest.webmanifest', '/favicon.svg'];

/**
 * Keep a fetched page and the hashed files it names, so the page works from the cache alone.
 * The page is stored only once its files are, so the cache never holds a page without them.
 */
async function keepShell(response) {
  const html = await response.clone().text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  const cache = await caches.open(CACHE);
  await cache.addAll([...assets, '/manifest.webmanifest', '/favicon.svg']);
  await cache.put('/', response);
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    fetch('/', { cache: 'no-store' })
      .then((response) => {
        if (!response.ok) throw new Error(`the page answered ${response.status}`);
        return keepShell(response);
      })
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

function keep(key, response) {
  if (!response.ok) return response;
  const copy = response.clone();
  void caches.open(CACHE).then((cache) => cache.put(key, copy));
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    // Every page of the app (/ and /r/<room>) is the same index.html.
    event.respondWith(
      fetch(request)
        .then((response) => {
          // A new version's page brings new hashed files: keep them too, in the background.
          if (response.ok) event.waitUntil(keepShell(response.clone()).catch(() => undefined));
          return response;
        })
        .catch(() => caches.match('/').then((hit) => hit ?? Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/') || SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => hit ?? fetch(request).then((response) => keep(request, response))));
  }
});
