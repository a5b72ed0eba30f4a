import { ApiError, NetworkError, api, configureApi, endpoints, ensureCsrf, forgetCsrf, type Me } from "./api";
import { clearDirty, isDirty } from "./dirty";
import { unsyncedDraftCount } from "./drafts";
import { EventClient, type ConnectionState } from "./events";
import { Observable } from "./observable";
import { deviceId } from "./device";
import { createOutbox } from "./outbox";
import { refreshPush } from "./push";
import { SIGN_IN, currentPath, homeForRoles, navigate, startRouter } from "./routes";
import { cacheGet, cachePut, clearUserData, cursorStore, lastUser, rememberUser } from "./userdata";

/**
 * The signed-in session and everything that hangs off it: the outbox, the event client and the
 * per-user cache. One place decides what happens on sign-in, sign-out and a lost session.
 */

export type SessionState =
  | { status: "loading" }
  | { status: "signed_out"; notice?: string }
  | { status: "signed_in"; me: Me; /** shown from the device cache; the server was unreachable */ stale: boolean };

export const session = new Observable<SessionState>({ status: "loading" });
export const connection = new Observable<ConnectionState>("idle");
export const online = new Observable<boolean>(typeof navigator === "undefined" ? true : navigator.onLine);

function currentUserId(): number | null {
  const s = session.value;
  return s.status === "signed_in" ? s.me.id : null;
}

export const outbox = createOutbox(currentUserId, () => void handleSessionLost());

let events: EventClient | null = null;
let stopEventsWatch: (() => void) | null = null;

function startEvents(me: Me): void {
  stopEvents();
  events = new EventClient({
    userId: me.id,
    cursors: cursorStore(),
    fetchPage: (after) => endpoints.events(after),
    onAuthLost: () => void handleSessionLost(),
    device: () => deviceId(me.id),
  });
  const unsubState = events.state.subscribe((s) => connection.set(s));
  const unsubEvents = events.subscribe((event) => {
    // Shift and team changes alter what /me/ says (partner, call sign, window).
    if (/^(shift|team|roster)[._]/.test(event.type)) void refreshMe();
  });
  stopEventsWatch = () => {
    unsubState();
    unsubEvents();
  };
  void events.start();
}

function stopEvents(): void {
  stopEventsWatch?.();
  stopEventsWatch = null;
  events?.stop();
  events = null;
  connection.set("idle");
}

/**
 * Tell the server the person saw event `cursor` (a receipt for an offer). Over the socket when it
 * is open, else over REST with the device id; false when neither worked.
 */
export async function markSeen(cursor: number): Promise<boolean> {
  const client = events;
  if (!client) return false;
  if (client.markSeen(cursor)) return true;
  const device = client.device;
  if (!device) return false;
  try {
    await api("/api/v1/events/receipts/", { method: "POST", body: { device, stage: "seen", cursor } });
    return true;
  } catch {
    return false;
  }
}

/** Subscribe to server events (for screens); returns an unsubscribe function. */
export function onServerEvent(cb: Parameters<EventClient["subscribe"]>[0]): () => void {
  let unsub: (() => void) | null = events?.subscribe(cb) ?? null;
  // Re-attach when the session (and so the client) changes.
  const unsubSession = session.subscribe(() => {
    unsub?.();
    unsub = events?.subscribe(cb) ?? null;
  });
  return () => {
    unsub?.();
    unsubSession();
  };
}

let pushRegisteredFor: number | null = null;

function enterSignedIn(me: Me, stale: boolean): void {
  const wasUser = currentUserId();
  session.set({ status: "signed_in", me, stale });
  if (wasUser !== me.id || !events) startEvents(me);
  // Re-register the push subscription once per start and user (iOS expires them silently); an
  // offline start does it when the server is first reached.
  if (!stale && pushRegisteredFor !== me.id) {
    pushRegisteredFor = me.id;
    void refreshPush(me.id);
  }
  void outbox.refreshCounts().then(() => outbox.replay());
}

async function refreshMe(): Promise<void> {
  try {
    const me = await endpoints.me();
    await cachePut(me.id, "me", me);
    enterSignedIn(me, false);
  } catch (e) {
    if (e instanceof NetworkError) return; // keep what we show; the banner says offline
    if (e instanceof ApiError && !e.isSessionLost) console.error("could not refresh /me/", e);
  }
}

export async function signIn(username: string, password: string): Promise<Me> {
  await ensureCsrf(true);
  const me = await endpoints.login(username, password);
  forgetCsrf(); // Django rotates the CSRF token at login
  rememberUser(me.id);
  await cachePut(me.id, "me", me);
  void persistStorage();
  enterSignedIn(me, false);
  navigate(homeForRoles(me.roles), { replace: true });
  return me;
}

/**
 * Work not on the server yet: queued writes, encounter drafts with edits not yet queued (they are
 * deleted with the user's cache at sign-out), and a form open with unsaved input (counted once).
 */
export async function unsentChanges(): Promise<number> {
  const s = session.value;
  if (s.status !== "signed_in") return 0;
  await outbox.refreshCounts();
  const drafts = await unsyncedDraftCount(s.me.id).catch(() => 0);
  const n = outbox.pending.value + drafts;
  return n === 0 && isDirty() ? 1 : n;
}

/**
 * Signs out. With writes still queued the caller must have asked the person first:
 * `discardPending` true drops them, false refuses (returns "pending").
 */
export async function signOut(opts: { discardPending: boolean }): Promise<"done" | "pending"> {
  const s = session.value;
  if (s.status !== "signed_in") return "done";
  if ((await unsentChanges()) > 0 && !opts.discardPending) return "pending";
  const userId = s.me.id;
  stopEvents();
  try {
    await endpoints.logout();
  } catch {
    // Offline or already expired: the local sign-out below still happens; the server session
    // expires on its own (and is revoked by an admin for a lost device).
  }
  if (opts.discardPending) await outbox.discardAllForUser(userId);
  await wipeLocal(userId);
  session.set({ status: "signed_out" });
  navigate(SIGN_IN, { replace: true });
  return "done";
}

/** Removes what this device holds about the user (cache, cursor), not their unsynced writes. */
async function wipeLocal(userId: number): Promise<void> {
  pushRegisteredFor = null;
  clearDirty();
  forgetCsrf();
  rememberUser(null);
  try {
    await clearUserData(userId);
  } catch (e) {
    console.error("could not clear local data", e);
  }
}

let handlingLoss = false;

/** The server says the session is gone (expired, revoked, signed out elsewhere). */
export async function handleSessionLost(): Promise<void> {
  if (handlingLoss) return;
  const s = session.value;
  if (s.status === "signed_out") return;
  handlingLoss = true;
  try {
    stopEvents();
    if (s.status === "signed_in") await wipeLocal(s.me.id);
    // Queued writes stay (they are the person's work); they replay when the same person signs in.
    // On first load a 403 from /me/ just means "not signed in yet": no scary notice then.
    session.set(s.status === "signed_in" ? { status: "signed_out", notice: "Your session has ended. Please sign in again." } : { status: "signed_out" });
    navigate(SIGN_IN, { replace: true });
  } finally {
    handlingLoss = false;
  }
}

async function persistStorage(): Promise<void> {
  // Safari may evict IndexedDB after 7 days unused; ask to keep the outbox.
  try {
    await navigator.storage?.persist?.();
  } catch {
    /* not available */
  }
}

/** App start: find out who is signed in (or fall back to the device cache when offline). */
export async function boot(): Promise<void> {
  configureApi({ onSessionLost: () => void handleSessionLost() });
  startRouter();
  window.addEventListener("online", () => {
    online.set(true);
    const s = session.value;
    if (s.status === "signed_in" && s.stale) void refreshMe();
    events?.reconnectNow();
  });
  window.addEventListener("offline", () => online.set(false));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && session.value.status === "signed_in") {
      void refreshMe();
      events?.reconnectNow();
    }
  });
  outbox.startTriggers();

  try {
    const me = await endpoints.me();
    rememberUser(me.id);
    await cachePut(me.id, "me", me);
    enterSignedIn(me, false);
  } catch (e) {
    if (e instanceof NetworkError) {
      const id = lastUser();
      const cached = id === null ? undefined : await cacheGet<Me>(id, "me").catch(() => undefined);
      if (cached) {
        enterSignedIn(cached, true);
      } else {
        session.set({ status: "signed_out", notice: "You are offline. Connect to sign in." });
      }
    } else {
      // The server says nobody is signed in. If someone was (the session expired or was revoked
      // while the app was closed), what this device holds about them goes now (drafts, cached
      // encounters, follow-ups); their queued writes stay, as after any lost session.
      const id = lastUser();
      if (id !== null) await wipeLocal(id);
      session.set(id !== null ? { status: "signed_out", notice: "Your session has ended. Please sign in again." } : { status: "signed_out" });
    }
  }
  const s = session.value;
  const path = currentPath.value;
  if (s.status === "signed_in" && (path === "/" || path === SIGN_IN)) navigate(homeForRoles(s.me.roles), { replace: true });
  if (s.status === "signed_out" && path !== SIGN_IN) navigate(SIGN_IN, { replace: true });
}
