import type {
  EventOutput,
  EventsResyncApiOutput,
  Me as MeOutput,
  MeMember,
  MeShift,
  MfaEnrollApiOutput,
  MfaStatus,
  MySessionsApiOutput,
  RevokeResult,
  SessionStatusApiOutput,
} from "../generated/api";
import type { Role } from "../generated/roles";

/**
 * fetch wrapper for the Django API: same-origin session cookie, CSRF header on unsafe methods,
 * JSON in and out, and the one error shape `{message, errors, current?}` turned into ApiError.
 */

export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  readonly status: number;
  readonly fieldErrors: FieldErrors;
  /** For 409: the server's current state of the thing we tried to change. */
  readonly current: unknown;
  /** The server's machine-readable `code` (`session_locked`, `session_expired`, `locked_out`, …). */
  readonly code: string | null;
  /** Seconds to wait (429 and lockouts): the body's `retry_after`, else the Retry-After header. */
  readonly retryAfter: number | null;

  constructor(
    status: number,
    message: string,
    fieldErrors: FieldErrors = {},
    current: unknown = undefined,
    code: string | null = null,
    retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fieldErrors = fieldErrors;
    this.current = current;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /** The session is idle-locked: the person re-enters their password; nothing is wiped. */
  get isLocked(): boolean {
    return this.status === 401 && this.code === SESSION_LOCKED;
  }

  /** The session is gone (expired, signed out elsewhere, revoked device): go to sign-in. */
  get isSessionLost(): boolean {
    // mfa_not_pending: the password step of a sign-in expired; that screen handles it itself.
    return !this.isLocked && this.code !== "mfa_not_pending" && isSessionLostStatus(this.status, this.message);
  }
}

export const SESSION_LOCKED = "session_locked";
export const SESSION_EXPIRED = "session_expired";

/** The request never got an HTTP answer (offline, DNS, connection reset). */
export class NetworkError extends Error {
  constructor(message = "Network unavailable") {
    super(message);
    this.name = "NetworkError";
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * DRF answers 403 both for "not signed in" and "not allowed"; only the first means the session
 * is gone. A 403 for a missing CSRF token is handled separately (refresh and retry once).
 */
export function isSessionLostStatus(status: number, message: string): boolean {
  if (status === 401) return true;
  if (status !== 403) return false;
  return /authenticat|credentials|session|signed in|logged in/i.test(message) && !isCsrfFailureMessage(message);
}

function isCsrfFailureMessage(message: string): boolean {
  return /csrf/i.test(message);
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

interface ApiConfig {
  fetch: FetchLike;
  /** `code` is the server's reason when it gave one (`session_expired`). */
  onSessionLost: (code: string | null, message?: string) => void;
  /** The server locked the session after idle time (401 `session_locked`). */
  onLocked: () => void;
  /** This device's UUID for the signed-in user (lib/device.ts), sent as `X-Device-Id`. */
  deviceId: () => string | null;
  /** True when the person touched the app recently: requests without an explicit `background` follow it. */
  userActive: () => boolean;
}

const config: ApiConfig = {
  fetch: (input, init) => globalThis.fetch(input, init),
  onSessionLost: () => {},
  onLocked: () => {},
  deviceId: () => null,
  userActive: () => true,
};

let lastForeground = 0;

/** When the last request that counts as activity (no `X-Background`) was sent (ms since epoch). */
export function lastForegroundRequestAt(): number {
  return lastForeground;
}

/** Tests swap fetch; the app sets the session-lost handler once at start. */
export function configureApi(partial: Partial<ApiConfig>): void {
  Object.assign(config, partial);
}

let csrfToken: string | null = null;

export function readCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

/**
 * The cookie is the truth when readable: Django rotates the token at login, so a token cached
 * from an earlier /csrf/ call goes stale. The JSON value covers CSRF_COOKIE_HTTPONLY setups.
 */
export async function ensureCsrf(force = false): Promise<string> {
  const fromCookie = readCookie("csrftoken");
  if (fromCookie && !force) return fromCookie;
  if (csrfToken && !force) return csrfToken;
  let res: Response;
  try {
    res = await config.fetch("/api/v1/auth/csrf/", { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch {
    throw new NetworkError();
  }
  const body = (await safeJson(res)) as { csrfToken?: string } | null;
  csrfToken = body?.csrfToken ?? readCookie("csrftoken");
  return csrfToken ?? "";
}

export function forgetCsrf(): void {
  csrfToken = null;
}

async function safeJson(res: Response): Promise<unknown> {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export interface SendOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  signal?: AbortSignal;
  /**
   * An automatic request (outbox replay, refresh, push re-registration): sent with
   * `X-Background: 1` so the server does not count it as the person's activity (idle lock).
   * Left out: background unless the person touched the app in the last few seconds.
   */
  background?: boolean;
}

/**
 * Sends one request and returns the raw Response (any status). Throws NetworkError only when
 * there was no HTTP answer. Used by the outbox, which classifies statuses itself.
 */
export async function send(url: string, opts: SendOptions = {}): Promise<Response> {
  const method = (opts.method ?? "GET").toUpperCase();
  const attempt = async (forceCsrf: boolean): Promise<Response> => {
    const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (opts.idempotencyKey) headers["Idempotency-Key"] = opts.idempotencyKey;
    const device = config.deviceId();
    if (device) headers["X-Device-Id"] = device;
    if (opts.background ?? !config.userActive()) headers["X-Background"] = "1";
    else lastForeground = Date.now();
    if (!SAFE_METHODS.has(method)) headers["X-CSRFToken"] = await ensureCsrf(forceCsrf);
    const init: RequestInit = { method, headers, credentials: "same-origin" };
    if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
    if (opts.signal) init.signal = opts.signal;
    try {
      return await config.fetch(url, init);
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new NetworkError(e instanceof Error ? e.message : undefined);
    }
  };
  let res = await attempt(false);
  if (res.status === 403 && !SAFE_METHODS.has(method)) {
    const peek = res.clone();
    const body = await safeJson(peek);
    if (isCsrfFailureMessage(errorMessage(body, ""))) res = await attempt(true);
  }
  return res;
}

function errorMessage(body: unknown, fallback: string): string {
  if (body && typeof body === "object") {
    const b = body as { message?: unknown; detail?: unknown };
    if (typeof b.message === "string") return b.message;
    if (typeof b.detail === "string") return b.detail;
  }
  return fallback;
}

/** Parses a non-2xx Response into an ApiError. */
export async function toApiError(res: Response): Promise<ApiError> {
  const body = await safeJson(res);
  const message = errorMessage(body, res.statusText || `HTTP ${res.status}`);
  let fieldErrors: FieldErrors = {};
  let current: unknown = undefined;
  let code: string | null = null;
  let retryAfter: number | null = null;
  if (body && typeof body === "object") {
    const b = body as { errors?: unknown; current?: unknown; code?: unknown; retry_after?: unknown };
    if (b.errors && typeof b.errors === "object") fieldErrors = b.errors as FieldErrors;
    current = b.current;
    if (typeof b.code === "string") code = b.code;
    if (typeof b.retry_after === "number" && Number.isFinite(b.retry_after)) retryAfter = Math.max(0, Math.ceil(b.retry_after));
  }
  if (retryAfter === null) retryAfter = parseRetryAfter(res.headers.get("Retry-After"));
  return new ApiError(res.status, message, fieldErrors, current, code, retryAfter);
}

/** Retry-After as seconds (delta-seconds or an HTTP date); null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** "45 seconds", "3 minutes", "1 hour 5 minutes": a wait time people read at a glance. */
export function formatWait(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return s === 1 ? "1 second" : `${s} seconds`;
  const m = Math.ceil(s / 60);
  if (m < 60) return m === 1 ? "1 minute" : `${m} minutes`;
  const h = Math.floor(m / 60);
  const rest = m % 60;
  const hours = h === 1 ? "1 hour" : `${h} hours`;
  return rest === 0 ? hours : `${hours} ${rest === 1 ? "1 minute" : `${rest} minutes`}`;
}

/** The message for a refused sign-in, unlock or code: lockout and rate limit with the wait time. */
export function authErrorMessage(err: ApiError): string {
  if (err.code === "locked_out") {
    const wait = err.retryAfter ? ` Try again in ${formatWait(err.retryAfter)},` : " Try again later,";
    return `Too many failed attempts: this account is locked.${wait} or ask an administrator to unlock it.`;
  }
  if (err.status === 429) {
    return err.retryAfter
      ? `Too many attempts. Wait ${formatWait(err.retryAfter)} and try again.`
      : "Too many attempts. Wait a moment and try again.";
  }
  return err.message || "That did not work. Please try again.";
}

/** The message for a failed sign-in step: lockout and rate limits say how long to wait. */
export function signInErrorMessage(err: unknown): string {
  if (err instanceof ApiError) return authErrorMessage(err);
  if (err instanceof NetworkError) return "Cannot reach the server. Check the connection and try again.";
  return "Sign-in failed. Please try again.";
}

/** JSON request; resolves to the parsed body, throws ApiError or NetworkError. */
export async function api<T>(url: string, opts: SendOptions = {}): Promise<T> {
  const res = await send(url, opts);
  if (!res.ok) {
    const err = await toApiError(res);
    reportAuthError(err);
    throw err;
  }
  return (await safeJson(res)) as T;
}

/** Tell the app the session is gone (used by the outbox and the event client too). */
export function reportSessionLost(code: string | null = null): void {
  config.onSessionLost(code);
}

/** Tell the app the server locked the session (401 session_locked, socket close 4423). */
export function reportLocked(): void {
  config.onLocked();
}

/** Routes a locked / lost session to the app; true when the error was one of those. */
export function reportAuthError(err: ApiError): boolean {
  if (err.isLocked) {
    config.onLocked();
    return true;
  }
  if (err.isSessionLost) {
    config.onSessionLost(err.code, err.message);
    return true;
  }
  return false;
}

// ---- Typed endpoints -------------------------------------------------------------------------

export type { Role } from "../generated/roles";

// `/me/` and the sign-in answers: generated from the OpenAPI schema (make contracts).
export type Person = MeMember;
export type Shift = MeShift;
export type Me = MeOutput;

/** One event of the REST resync (the socket's frames carry the same fields). */
export type ServerEvent = EventOutput;
export type EventPage = EventsResyncApiOutput;

/** The password step's answer; an older server that signs in at once answers with Me. */
export type LoginAnswer = { status: "mfa_required" } | { status: "mfa_enrollment_required" } | Me;

/** `qr_svg` is inline SVG markup of the QR code (shown as an <img> data: URL, never as HTML). */
export type Enrollment = MfaEnrollApiOutput;
export type { MfaStatus, RevokeResult } from "../generated/api";
export type SessionInfo = SessionStatusApiOutput;
export type DeviceSession = MySessionsApiOutput;

const AUTH = "/api/v1/auth";

export const endpoints = {
  me: (opts: { background?: boolean } = {}) => api<Me>("/api/v1/me/", opts),
  login: (username: string, password: string) =>
    api<LoginAnswer>(`${AUTH}/login/`, { method: "POST", body: { username, password }, background: false }),
  mfaVerify: (code: string) => api<Me>(`${AUTH}/mfa/verify/`, { method: "POST", body: { code }, background: false }),
  mfaEnroll: (password?: string) =>
    api<Enrollment>(`${AUTH}/mfa/enroll/`, { method: "POST", body: password === undefined ? {} : { password }, background: false }),
  mfaEnrollConfirm: (code: string) =>
    api<{ recovery_codes: string[]; me: Me }>(`${AUTH}/mfa/enroll/confirm/`, { method: "POST", body: { code }, background: false }),
  mfaStatus: () => api<MfaStatus>(`${AUTH}/mfa/`),
  recoveryCodes: (password: string) =>
    api<{ recovery_codes: string[] }>(`${AUTH}/mfa/recovery-codes/`, { method: "POST", body: { password }, background: false }),
  logout: () => api<null>(`${AUTH}/logout/`, { method: "POST" }),
  session: () => api<SessionInfo>(`${AUTH}/session/`, { background: true }),
  lock: () => api<null>(`${AUTH}/lock/`, { method: "POST", background: true }),
  unlock: (password: string) => api<Me>(`${AUTH}/unlock/`, { method: "POST", body: { password }, background: false }),
  sessions: () => api<DeviceSession[]>(`${AUTH}/sessions/`),
  endSession: (id: string | number) =>
    api<null>(`${AUTH}/sessions/${encodeURIComponent(String(id))}/`, { method: "DELETE", background: false }),
  revokeUserDevices: (userId: number) =>
    api<RevokeResult>(`/api/v1/security/users/${encodeURIComponent(String(userId))}/revoke-devices/`, {
      method: "POST",
      background: false,
    }),
  events: (after: number) => api<EventPage>(`/api/v1/events/?after=${encodeURIComponent(String(after))}`, { background: true }),
};

export function isMe(value: unknown): value is Me {
  return !!value && typeof value === "object" && "id" in value && "roles" in value;
}
