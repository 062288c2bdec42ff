// The dashboard's service worker: keeps the shell (page, styles, scripts, icons) so an installed dashboard opens
// even when the hub cannot be reached, and then says it is offline. API calls and the WebSocket are never cached:
// values shown always come from the hub. Files are fetched from the network first, so an update shows at once.

const CACHE = "homelab-hub-shell-v1";
const SHELL = [
  "/",
  "/css/app.css",
  "/manifest.webmanifest",
  "/icons/icon.svg",
  "/icons/icon-192.png",
  "/js/main.js",
  "/js/auth.js",
  "/js/chart.js",
  "/js/connection.js",
  "/js/dom.js",
  "/js/format.js",
  "/js/rest.js",
  "/js/store.js",
  "/js/uptime.js",
  "/js/views/alerts.js",
  "/js/views/checks.js",
  "/js/views/controls.js",
  "/js/views/entity.js",
  "/js/views/fleet.js",
  "/js/views/node.js",
  "/js/views/integrations.js",
  "/js/views/login.js",
  "/js/views/overview.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/metrics" || url.pathname.startsWith("/status/")) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(async () => (await caches.match(event.request)) || (event.request.mode === "navigate" ? caches.match("/") : Response.error())),
  );
});
