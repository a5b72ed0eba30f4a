import { api } from "./api";
import { deviceId } from "./device";
import { Observable } from "./observable";

/**
 * Web Push: subscribe this device so a new assignment reaches the person when the app is closed.
 *
 * - The app explains first (a card with a button); the permission prompt only follows a tap.
 * - After permission, on every app start the subscription is re-registered with the server
 *   (`POST /api/v1/push/subscriptions/`, idempotent per device): iOS may silently expire a
 *   subscription (WebKit bug 249766), and a changed VAPID key needs a new subscription.
 * - The service worker (`sw.ts`) shows the notification; its "Open" action opens the app.
 */

export type PushStatus = "unsupported" | "ask" | "denied" | "subscribing" | "on" | "error";

export const pushStatus = new Observable<PushStatus>("ask");

export function pushSupported(): boolean {
  return (
    typeof window !== "undefined" &&
    "serviceWorker" in navigator &&
    "PushManager" in window &&
    "Notification" in window &&
    window.isSecureContext
  );
}

/** base64url (the VAPID public key) → bytes for `applicationServerKey`. */
export function base64UrlToBytes(value: string): Uint8Array<ArrayBuffer> {
  const padded = (value + "=".repeat((4 - (value.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(padded);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function sameKey(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

export interface SubscriptionBody {
  device: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** The body the server's subscribe API takes, from a browser PushSubscription's JSON. */
export function subscriptionBody(device: string, json: PushSubscriptionJSON): SubscriptionBody | null {
  const p256dh = json.keys?.p256dh;
  const auth = json.keys?.auth;
  if (!json.endpoint || !p256dh || !auth) return null;
  return { device, endpoint: json.endpoint, keys: { p256dh, auth } };
}

/** `background`: the re-registration at start is automatic (X-Background); a tap is not. */
async function subscribeAndRegister(userId: number, background: boolean): Promise<void> {
  const reg = await navigator.serviceWorker.ready;
  const { public_key } = await api<{ public_key: string }>("/api/v1/push/vapid-public-key/", { background });
  const key = base64UrlToBytes(public_key);
  let sub = await reg.pushManager.getSubscription();
  if (sub && !sameKey(sub.options.applicationServerKey, key)) {
    // The server rotated its VAPID key: the old subscription can no longer be used.
    await sub.unsubscribe().catch(() => false);
    sub = null;
  }
  sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const body = subscriptionBody(await deviceId(userId), sub.toJSON());
  if (!body) throw new Error("The browser gave an incomplete push subscription.");
  await api("/api/v1/push/subscriptions/", { method: "POST", body, background });
}

/** At every start (after sign-in): where permission was granted, re-register the subscription. */
export async function refreshPush(userId: number): Promise<void> {
  if (!pushSupported()) {
    pushStatus.set("unsupported");
    return;
  }
  const permission = Notification.permission;
  if (permission === "denied") {
    pushStatus.set("denied");
    return;
  }
  if (permission !== "granted") {
    pushStatus.set("ask");
    return;
  }
  try {
    await subscribeAndRegister(userId, true);
    pushStatus.set("on");
  } catch (e) {
    console.error("push re-registration failed", e);
    pushStatus.set("error");
  }
}

/** The person tapped "Allow notifications": ask the browser, then subscribe. */
export async function enablePush(userId: number): Promise<PushStatus> {
  if (!pushSupported()) {
    pushStatus.set("unsupported");
    return "unsupported";
  }
  pushStatus.set("subscribing");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    pushStatus.set(permission === "denied" ? "denied" : "ask");
    return pushStatus.value;
  }
  try {
    await subscribeAndRegister(userId, false);
    pushStatus.set("on");
  } catch (e) {
    console.error("push subscription failed", e);
    pushStatus.set("error");
  }
  return pushStatus.value;
}
