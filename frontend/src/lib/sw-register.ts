import { Workbox } from "workbox-window";
import { isDirty } from "./dirty";
import { Observable } from "./observable";

/**
 * Service worker registration and the update policy.
 *
 * A new version installs in the background and then waits. We never skip waiting on our own:
 * the page shows "Update ready", and only when the person taps it, the outbox is empty and no
 * form is dirty, do we tell the waiting worker to take over and reload once it controls the page.
 */
export const updateReady = new Observable<boolean>(false);

let wb: Workbox | null = null;

export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator) || !import.meta.env.PROD) return;
  wb = new Workbox("/sw.js", { scope: "/" });
  wb.addEventListener("waiting", () => updateReady.set(true));
  void wb.register().catch((e: unknown) => console.error("service worker registration failed", e));
  // Phones keep a PWA open for a whole shift: look for a new version now and then.
  const check = () => void wb?.update().catch(() => {});
  setInterval(check, 60 * 60 * 1000);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") check();
  });
}

export type UpdateBlock = "outbox" | "dirty" | null;

/** Why an update cannot be applied right now, if anything. */
export function updateBlockedBy(pendingWrites: number): UpdateBlock {
  if (pendingWrites > 0) return "outbox";
  if (isDirty()) return "dirty";
  return null;
}

/** Applies the waiting update if nothing would be lost; returns what blocked it otherwise. */
export function applyUpdate(pendingWrites: number): UpdateBlock {
  const blocked = updateBlockedBy(pendingWrites);
  if (blocked || !wb) return blocked;
  wb.addEventListener("controlling", () => window.location.reload());
  wb.messageSkipWaiting();
  return null;
}
