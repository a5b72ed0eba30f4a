import {
  ApiError,
  NetworkError,
  SESSION_EXPIRED,
  api,
  configureApi,
  endpoints,
  ensureCsrf,
  forgetCsrf,
  isMe,
  lastForegroundRequestAt,
  type Enrollment,
  type Me,
} from "./api";
import { clearDirty, isDirty } from "./dirty";
import { DRAFT_PREFIX, unsyncedDraftCount } from "./drafts";
import { eventStores } from "./event-store";
import { EventClient, inTopics, type ConnectionState } from "./events";
import { Observable } from "./observable";
import { deviceId } from "./device";
import { IdleTimer, trackUserInput, userActiveWithin } from "./idle";
import { createOutbox } from "./outbox";
import { refreshPush } from "./push";
import { SIGN_IN, currentPath, homeForRoles, navigate, startRouter } from "./routes";
import { cacheGet, cachePut, clearUserData, cursorStore, lastUser, rememberUser } from "./userdata";

/**
 * The signed-in session and everything that hangs off it: the outbox, the event client and the
 * per-user cache. One place decides what happens on sign-in, sign-out and a lost session.
 */

/** Who a locked session belongs to: all the lock screen shows. */
export interface LockedUser {
  id: number;
  username: string;
  full_name: string;
}

export type SessionState =
  | { status: "loading" }
  | { status: "signed_out"; notice?: string }
  | { status: "signed_in"; me: Me; /** shown from the device cache; the server was unreachable */ stale: boolean }
  | { status: "locked"; user: LockedUser };

/** Idle time before the app locks itself; the server's auth/session value replaces it. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
/** A request within this long after a tap or key press is the person's own (no X-Background). */
export const USER_REQUEST_WINDOW_MS = 5_000;
const KEPT = "Work not yet sent is kept on this device and is sent after you sign in.";
export const EXPIRED_NOTICE = `Your session reached its 12-hour limit. Sign in again. ${KEPT}`;
export const ENDED_NOTICE = "Your session has ended. Please sign in again.";

export const session = new Observable<SessionState>({ status: "loading" });
export const connection = new Observable<ConnectionState>("idle");
export const online = new Observable<boolean>(typeof navigator === "undefined" ? true : navigator.onLine);

function currentUserId(): number | null {
  const s = session.value;
  return s.status === "signed_in" ? s.me.id : null;
}

export const outbox = createOutbox(
  currentUserId,
  (code) => void handleSessionLost(code),
  () => void handleLocked(),
);

// The device id of the signed-in user, known synchronously for the X-Device-Id header.
let currentDevice: { userId: number; device: string } | null = null;

function resolveDevice(userId: number): void {
  if (currentDevice?.userId === userId) return;
  currentDevice = null;
  void deviceId(userId).then((device) => {
    if (currentUserId() === userId || lockedUserId() === userId) currentDevice = { userId, device };
  });
}

function lockedUserId(): number | null {
  const s = session.value;
  return s.status === "locked" ? s.user.id : null;
}

export const idle = new IdleTimer({
  timeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  onIdle: () => void lockNow(),
  target: typeof document === "undefined" ? undefined : document,
});

// The device's ledger of handled event ids and its unconfirmed receipts (shared by the tabs).
const eventStore = eventStores();

let events: EventClient | null = null;
let stopEventsWatch: (() => void) | null = null;

function startEvents(me: Me): void {
  stopEvents();
  events = new EventClient({
    userId: me.id,
    cursors: cursorStore(),
    fetchPage: (after) => endpoints.events(after),
    onAuthLost: () => void handleSessionLost(),
    onLocked: () => void handleLocked(),
    device: () => deviceId(me.id),
    ledger: eventStore.ledger,
    receipts: eventStore.receipts,
    postReceipt: (body) => api("/api/v1/events/receipts/", { method: "POST", body, background: true }),
  });
  const unsubState = events.state.subscribe((s) => connection.set(s));
  const unsubEvents = events.subscribe((event) => {
    // Shift and team changes alter what /me/ says (partner, call sign, window).
    // A supervisor changed my shift or team: my /me/ (shift, partner) changed.
    if (inTopics(event, ["shift", "team"])) void refreshMe();
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
  // Kept on the device until the server confirms it (docs/realtime.md, rule 4).
  return client.markSeen(cursor);
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
  resolveDevice(me.id);
  if (wasUser !== me.id) {
    idle.stop();
    idle.start();
    if (!stale) void loadIdleTimeout();
  }
  if (wasUser !== me.id || !events) startEvents(me);
  // Re-register the push subscription once per start and user (iOS expires them silently); an
  // offline start does it when the server is first reached.
  if (!stale && pushRegisteredFor !== me.id) {
    pushRegisteredFor = me.id;
    void refreshPush(me.id);
  }
  void outbox.refreshCounts().then(() => outbox.replay());
}

/** The server's idle timeout (auth/session); the default stays when it cannot be read. */
async function loadIdleTimeout(): Promise<void> {
  try {
    const info = await endpoints.session();
    if (info.idle_timeout_seconds > 0) idle.setTimeoutMs(info.idle_timeout_seconds * 1000);
    noteExpiry(info.expires_at);
  } catch {
    /* offline or an older server: keep the default */
  }
}

async function refreshMe(opts: { background?: boolean } = { background: true }): Promise<void> {
  try {
    const me = await endpoints.me(opts);
    await cachePut(me.id, "me", me);
    enterSignedIn(me, false);
  } catch (e) {
    if (e instanceof NetworkError) return; // keep what we show; the banner says offline
    if (e instanceof ApiError && !e.isSessionLost) console.error("could not refresh /me/", e);
  }
}

export type SignInStep = "mfa_required" | "mfa_enrollment_required" | "signed_in";

/**
 * The password step. The server never signs in here: it answers which second step follows
 * (a code from the authenticator, or enrolling one on the first sign-in).
 */
export async function signIn(username: string, password: string): Promise<SignInStep> {
  await ensureCsrf(true);
  const answer = await endpoints.login(username, password);
  if (isMe(answer)) {
    await finishSignIn(answer); // a server without MFA signs in at once
    return "signed_in";
  }
  return answer.status;
}

/** The second step: a 6-digit code from the authenticator, or a recovery code. */
export async function verifyMfa(code: string): Promise<Me> {
  const me = await endpoints.mfaVerify(code);
  await finishSignIn(me);
  return me;
}

/** First sign-in (or replacing the authenticator, with the password): a new secret to scan. */
export function startEnrollment(password?: string): Promise<Enrollment> {
  return endpoints.mfaEnroll(password);
}

/**
 * Confirms the authenticator with its first code. The server signs in here and answers the
 * recovery codes; the caller shows them once, then calls finishSignIn(me).
 */
export async function confirmEnrollment(code: string): Promise<{ recovery_codes: string[]; me: Me }> {
  const answer = await endpoints.mfaEnrollConfirm(code);
  forgetCsrf(); // signing in rotates the CSRF token
  return answer;
}

/** Signed in on the server: remember the user, start the session's machinery, go home. */
export async function finishSignIn(me: Me): Promise<void> {
  forgetCsrf(); // Django rotates the CSRF token at login
  rememberUser(me.id);
  await cachePut(me.id, "me", me);
  void persistStorage();
  enterSignedIn(me, false);
  navigate(homeForRoles(me.roles), { replace: true });
}

// ---- Idle lock -------------------------------------------------------------------------------

let lockWatch: ReturnType<typeof setInterval> | null = null;
// When the server ends the session at the latest (auth/session's expires_at), to tell the
// 12-hour limit from a revocation while the phone sits locked.
let sessionExpiresAt: number | null = null;

function noteExpiry(expiresAt: string | null): void {
  const t = expiresAt ? Date.parse(expiresAt) : NaN;
  sessionExpiresAt = Number.isNaN(t) ? null : t;
}

function enterLocked(user: LockedUser): void {
  idle.stop();
  stopEvents();
  clearDirty(); // the screens are unmounted; drafts are already in IndexedDB
  session.set({ status: "locked", user });
  // A locked phone may be a lost one: when a supervisor revokes it (or the 12 hours run out)
  // while it sits locked, its cached data goes without waiting for someone to try a password.
  if (lockWatch) clearInterval(lockWatch);
  lockWatch = setInterval(() => void checkLockedSession(), 60_000);
}

function leaveLocked(): void {
  if (lockWatch) clearInterval(lockWatch);
  lockWatch = null;
}

async function checkLockedSession(): Promise<void> {
  if (session.value.status !== "locked") return leaveLocked();
  try {
    const info = await endpoints.session();
    if (!info.authenticated) {
      const expired = sessionExpiresAt !== null && Date.now() >= sessionExpiresAt - 5_000;
      await handleSessionLost(expired ? SESSION_EXPIRED : null);
    }
  } catch {
    /* offline: check again later */
  }
}

function lockedUserOf(me: Me): LockedUser {
  return { id: me.id, username: me.username, full_name: me.full_name };
}

/** The app's own idle timer fired: lock here and tell the server. */
export async function lockNow(): Promise<void> {
  const s = session.value;
  if (s.status !== "signed_in") return;
  enterLocked(lockedUserOf(s.me));
  try {
    await endpoints.lock();
  } catch {
    /* offline: the server locks on its own idle timer */
  }
}

/** The server locked the session (401 session_locked, socket close 4423). */
export async function handleLocked(): Promise<void> {
  const s = session.value;
  if (s.status === "signed_in") enterLocked(lockedUserOf(s.me));
}

/** Unlock with the password; the event client replays from its cursor and the outbox resumes. */
export async function unlock(password: string): Promise<Me> {
  const me = await endpoints.unlock(password);
  forgetCsrf();
  leaveLocked();
  await cachePut(me.id, "me", me).catch(() => undefined);
  enterSignedIn(me, false);
  if (currentPath.value === SIGN_IN || currentPath.value === "/") navigate(homeForRoles(me.roles), { replace: true });
  return me;
}

/**
 * While the person works without making requests (typing a long note), tell the server now and
 * then that they are there, so its idle lock does not fire before the app's own.
 */
function keepAlive(): void {
  if (session.value.status !== "signed_in" || session.value.stale) return;
  const lastRequest = lastForegroundRequestAt();
  if (idle.lastInputAt > lastRequest && Date.now() - lastRequest >= 60_000) void refreshMe({ background: false });
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
  if (s.status === "locked") return signOutLocked();
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
  idle.stop();
  await wipeLocal(userId);
  session.set({ status: "signed_out" });
  navigate(SIGN_IN, { replace: true });
  return "done";
}

/**
 * "Sign out" on the lock screen. Whoever holds the phone may not be its owner, so nothing is
 * asked and nothing unsent is discarded: queued writes and drafts stay for the owner's next sign-in.
 */
async function signOutLocked(): Promise<"done"> {
  const s = session.value;
  if (s.status !== "locked") return "done";
  leaveLocked();
  try {
    await endpoints.logout();
  } catch {
    /* offline: the server's session is locked and expires on its own */
  }
  await wipeLocal(s.user.id, { keepDrafts: true });
  session.set({ status: "signed_out" });
  navigate(SIGN_IN, { replace: true });
  return "done";
}

/**
 * Removes what this device holds about the user (cache, cursor), not their unsynced writes.
 * `keepDrafts`: encounter drafts stay too (12-hour limit, lock screen sign-out), for the same
 * person's next sign-in.
 */
async function wipeLocal(userId: number, opts: { keepDrafts?: boolean } = {}): Promise<void> {
  pushRegisteredFor = null;
  currentDevice = null;
  clearDirty();
  forgetCsrf();
  rememberUser(null);
  try {
    await clearUserData(userId, undefined, opts.keepDrafts ? (key) => key.startsWith(DRAFT_PREFIX) : undefined);
  } catch (e) {
    console.error("could not clear local data", e);
  }
}

let handlingLoss = false;

/**
 * The server says the session is gone. After the 12-hour limit (`session_expired`) the person's
 * unsent drafts stay for their next sign-in; revoked, signed out elsewhere or otherwise ended:
 * the cached data goes, drafts included (a lost phone must not keep health information).
 * Queued writes stay either way; they replay when the same person signs in.
 */
export async function handleSessionLost(code: string | null = null, message?: string): Promise<void> {
  if (handlingLoss) return;
  const s = session.value;
  if (s.status === "signed_out") return;
  handlingLoss = true;
  try {
    stopEvents();
    idle.stop();
    leaveLocked();
    // The first request after the limit gets `session_expired`; any later one only "not signed
    // in". Whichever arrives first, past the known expiry time it is the 12-hour limit.
    const expired = code === SESSION_EXPIRED || (sessionExpiresAt !== null && Date.now() >= sessionExpiresAt - 5_000);
    const userId = s.status === "signed_in" ? s.me.id : s.status === "locked" ? s.user.id : null;
    if (userId !== null) await wipeLocal(userId, { keepDrafts: expired });
    // On first load a 403 from /me/ just means "not signed in yet": no scary notice then.
    // The server ends a locked session after too many wrong passwords with its own message.
    const notice = !expired ? ENDED_NOTICE : message && !/12-hour/i.test(message) && code === SESSION_EXPIRED ? `${message} ${KEPT}` : EXPIRED_NOTICE;
    session.set(userId !== null ? { status: "signed_out", notice } : { status: "signed_out" });
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
  configureApi({
    onSessionLost: (code, message) => void handleSessionLost(code, message),
    onLocked: () => void handleLocked(),
    deviceId: () => {
      const id = currentUserId() ?? lockedUserId();
      return currentDevice && currentDevice.userId === id ? currentDevice.device : null;
    },
    userActive: () => userActiveWithin(USER_REQUEST_WINDOW_MS),
  });
  trackUserInput(document);
  setInterval(keepAlive, 30_000);
  startRouter();
  window.addEventListener("online", () => {
    online.set(true);
    const s = session.value;
    if (s.status === "signed_in" && s.stale) void refreshMe({ background: true });
    events?.reconnectNow();
  });
  window.addEventListener("offline", () => online.set(false));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && session.value.status === "signed_in") {
      void refreshMe({ background: true });
      events?.reconnectNow();
    }
  });
  outbox.startTriggers();

  try {
    const me = await endpoints.me({ background: true });
    rememberUser(me.id);
    await cachePut(me.id, "me", me);
    enterSignedIn(me, false);
  } catch (e) {
    if (e instanceof ApiError && e.isLocked) {
      await bootLocked();
      return finishBoot();
    }
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
      // After the 12-hour limit the person's unsent drafts stay for their next sign-in.
      const id = lastUser();
      const expired = e instanceof ApiError && e.code === SESSION_EXPIRED;
      if (id !== null) await wipeLocal(id, { keepDrafts: expired });
      session.set(id !== null ? { status: "signed_out", notice: expired ? EXPIRED_NOTICE : ENDED_NOTICE } : { status: "signed_out" });
    }
  }
  finishBoot();
}

/** Started (or reloaded) while the server holds the session locked: show the lock screen. */
async function bootLocked(): Promise<void> {
  let user: LockedUser | null = null;
  try {
    const info = await endpoints.session();
    user = info.user;
    noteExpiry(info.expires_at);
    if (info.idle_timeout_seconds > 0) idle.setTimeoutMs(info.idle_timeout_seconds * 1000);
  } catch {
    /* fall back to the cached /me/ */
  }
  const id = user?.id ?? lastUser();
  if (!user && id !== null) {
    const cached = await cacheGet<Me>(id, "me").catch(() => undefined);
    if (cached) user = lockedUserOf(cached);
  }
  if (user) {
    resolveDevice(user.id);
    enterLocked(user);
  } else {
    session.set({ status: "signed_out" });
  }
}

function finishBoot(): void {
  const s = session.value;
  const path = currentPath.value;
  if (s.status === "signed_in" && (path === "/" || path === SIGN_IN)) navigate(homeForRoles(s.me.roles), { replace: true });
  if (s.status === "signed_out" && path !== SIGN_IN) navigate(SIGN_IN, { replace: true });
}
