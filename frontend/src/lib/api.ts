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

  constructor(status: number, message: string, fieldErrors: FieldErrors = {}, current: unknown = undefined) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fieldErrors = fieldErrors;
    this.current = current;
  }

  /** The session is gone (expired, signed out elsewhere, revoked device): go to sign-in. */
  get isSessionLost(): boolean {
    return isSessionLostStatus(this.status, this.message);
  }
}

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
  onSessionLost: () => void;
}

const config: ApiConfig = {
  fetch: (input, init) => globalThis.fetch(input, init),
  onSessionLost: () => {},
};

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
  if (body && typeof body === "object") {
    const b = body as { errors?: unknown; current?: unknown };
    if (b.errors && typeof b.errors === "object") fieldErrors = b.errors as FieldErrors;
    current = b.current;
  }
  return new ApiError(res.status, message, fieldErrors, current);
}

/** JSON request; resolves to the parsed body, throws ApiError or NetworkError. */
export async function api<T>(url: string, opts: SendOptions = {}): Promise<T> {
  const res = await send(url, opts);
  if (!res.ok) {
    const err = await toApiError(res);
    if (err.isSessionLost) config.onSessionLost();
    throw err;
  }
  return (await safeJson(res)) as T;
}

/** Tell the app the session is gone (used by the outbox and the event client too). */
export function reportSessionLost(): void {
  config.onSessionLost();
}

// ---- Typed endpoints -------------------------------------------------------------------------

export type Role =
  | "dispatcher"
  | "clinician"
  | "clinical_supervisor"
  | "officer"
  | "care_navigator"
  | "supervisor"
  | "analyst"
  | "admin";

export interface Person {
  id: number;
  full_name: string;
  role: string;
}

export interface Shift {
  id: number;
  team: { id: number; call_sign: string };
  starts_at: string;
  ends_at: string;
  members: Person[];
}

export interface Me {
  id: number;
  username: string;
  full_name: string;
  roles: Role[];
  current_shift: Shift | null;
  partner: Person | null;
}

export interface ServerEvent {
  cursor: number;
  id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown>;
}

export interface EventPage {
  results: ServerEvent[];
  next_after: number;
  has_more: boolean;
}

export const endpoints = {
  me: () => api<Me>("/api/v1/me/"),
  login: (username: string, password: string) =>
    api<Me>("/api/v1/auth/login/", { method: "POST", body: { username, password } }),
  logout: () => api<null>("/api/v1/auth/logout/", { method: "POST" }),
  events: (after: number) => api<EventPage>(`/api/v1/events/?after=${encodeURIComponent(String(after))}`),
};
