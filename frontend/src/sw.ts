/// <reference lib="webworker" />
/**
 * The service worker: a precached app shell and the push/sync hooks. Deliberately short.
 *
 * - The shell (index.html, hashed assets, icons, manifest) is precached from the manifest that
 *   the build injects; a new build gets a new precache revision and old entries are cleaned up.
 * - Navigations (SPA routes) get the precached index.html, except /api/, /ws/ and /admin/.
 * - Nothing under /api/, /ws/ or /admin/ is ever cached: no runtime caching routes exist at all,
 *   so those requests go to the network as if there were no worker.
 * - No automatic skipWaiting: the page asks (after the person agrees) with SKIP_WAITING.
 */
import { clientsClaim } from "workbox-core";
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null } | string> };

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// Only matters for the very first install (no earlier worker): later versions activate only
// after SKIP_WAITING from the page, and then take over the open tabs that asked for it.
clientsClaim();

registerRoute(
  new NavigationRoute(createHandlerBoundToURL("/index.html"), {
    denylist: [/^\/api\//, /^\/ws\//, /^\/admin\//, /^\/static\//, /^\/media\//],
  }),
);

self.addEventListener("message", (event) => {
  if ((event.data as { type?: string } | null)?.type === "SKIP_WAITING") void self.skipWaiting();
});

// ---- Push ----------------------------------------------------------------------------------
// The payload carries only routing text chosen by the server ("New assignment", a call sign),
// never clinical content. We show title/body/tag and keep the url for the click.

interface PushPayload {
  title?: string;
  body?: string;
  tag?: string;
  url?: string;
}

function sameOriginPath(url: string | undefined): string {
  if (!url) return "/";
  try {
    const u = new URL(url, self.location.origin);
    return u.origin === self.location.origin ? u.pathname + u.search + u.hash : "/";
  } catch {
    return "/";
  }
}

self.addEventListener("push", (event) => {
  let payload: PushPayload = {};
  try {
    payload = (event.data?.json() ?? {}) as PushPayload;
  } catch {
    payload = {};
  }
  const title = typeof payload.title === "string" && payload.title ? payload.title.slice(0, 80) : "Co-Response";
  const body = typeof payload.body === "string" && payload.body ? payload.body.slice(0, 160) : "New assignment";
  const options: NotificationOptions & { actions?: Array<{ action: string; title: string }>; renotify?: boolean } = {
    body,
    icon: "/icons/icon-192.png",
    badge: "/icons/icon-192.png",
    data: { url: sameOriginPath(payload.url) },
    actions: [{ action: "open", title: "Open" }],
  };
  if (payload.tag) {
    // Same tag replaces the earlier notification instead of stacking; renotify still alerts.
    options.tag = payload.tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = sameOriginPath((event.notification.data as { url?: string } | null)?.url);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin !== self.location.origin) continue;
        const focused = await client.focus();
        if (new URL(focused.url).pathname + new URL(focused.url).search !== url) {
          await focused.navigate(url).catch(() => null);
        }
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});

// ---- Background Sync (Chromium only) -------------------------------------------------------
// The outbox lives in the page's code (it needs the session's CSRF token). The worker only
// wakes the open pages so they replay; pages also replay on their own triggers.

interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
}

self.addEventListener("sync" as keyof ServiceWorkerGlobalScopeEventMap, ((event: SyncEvent) => {
  if (event.tag !== "outbox-replay") return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((clients) => {
      for (const c of clients) c.postMessage({ type: "outbox-replay" });
    }),
  );
}) as unknown as (this: ServiceWorkerGlobalScope, ev: Event) => void);
