import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, api, authErrorMessage, configureApi, endpoints, forgetCsrf, formatWait, lastForegroundRequestAt, parseRetryAfter, send } from "./api";

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

function capture(status = 200, body: unknown = {}) {
  const calls: Array<{ url: string; headers: Record<string, string> }> = [];
  configureApi({
    fetch: async (url, init) => {
      calls.push({ url, headers: { ...(init?.headers as Record<string, string>) } });
      return json(status, body);
    },
  });
  return calls;
}

beforeEach(() => {
  forgetCsrf();
  document.cookie = "csrftoken=tok";
  configureApi({ onSessionLost: () => {}, onLocked: () => {}, deviceId: () => null, userActive: () => true });
});

describe("request headers", () => {
  it("sends X-Device-Id on every request once the device is known", async () => {
    const calls = capture();
    await api("/api/v1/me/");
    expect(calls[0]?.headers["X-Device-Id"]).toBeUndefined();
    configureApi({ deviceId: () => "0b8f4a52-86c9-4d9e-9c1e-7d3f4c2a1b00" });
    await api("/api/v1/me/");
    await send("/api/v1/assignments/1/accept/", { method: "POST", body: {} });
    expect(calls[1]?.headers["X-Device-Id"]).toBe("0b8f4a52-86c9-4d9e-9c1e-7d3f4c2a1b00");
    expect(calls[2]?.headers["X-Device-Id"]).toBe("0b8f4a52-86c9-4d9e-9c1e-7d3f4c2a1b00");
  });

  it("marks explicit background requests, whatever the person is doing", async () => {
    const calls = capture();
    await api("/api/v1/events/?after=0", { background: true });
    await endpoints.events(0);
    await endpoints.session();
    expect(calls.map((c) => c.headers["X-Background"])).toEqual(["1", "1", "1"]);
  });

  it("without an explicit choice, a request is the person's only right after their input", async () => {
    const calls = capture();
    configureApi({ userActive: () => false });
    await api("/api/v1/incidents/board/"); // a refresh timer
    configureApi({ userActive: () => true });
    const before = Date.now();
    await api("/api/v1/incidents/board/"); // right after a tap
    expect(calls[0]?.headers["X-Background"]).toBe("1");
    expect(calls[1]?.headers["X-Background"]).toBeUndefined();
    expect(lastForegroundRequestAt()).toBeGreaterThanOrEqual(before);
  });

  it("a sign-in step always counts as activity", async () => {
    const calls = capture(200, { status: "mfa_required" });
    configureApi({ userActive: () => false });
    await endpoints.login("officer1", "pw");
    await endpoints.unlock("pw").catch(() => undefined);
    expect(calls.every((c) => c.headers["X-Background"] === undefined)).toBe(true);
  });
});

describe("locked and expired sessions", () => {
  it("401 session_locked calls onLocked, not onSessionLost", async () => {
    const onLocked = vi.fn();
    const onSessionLost = vi.fn();
    configureApi({ onLocked, onSessionLost, fetch: async () => json(401, { message: "Locked", errors: {}, code: "session_locked" }) });
    const err = (await api("/api/v1/assignments/inbox/").catch((e: unknown) => e)) as ApiError;
    expect(err.isLocked).toBe(true);
    expect(err.isSessionLost).toBe(false);
    expect(onLocked).toHaveBeenCalledTimes(1);
    expect(onSessionLost).not.toHaveBeenCalled();
  });

  it("401 session_expired is a lost session with its code", async () => {
    const onLocked = vi.fn();
    const onSessionLost = vi.fn();
    configureApi({ onLocked, onSessionLost, fetch: async () => json(401, { message: "Expired", errors: {}, code: "session_expired" }) });
    await api("/api/v1/me/").catch(() => undefined);
    expect(onSessionLost).toHaveBeenCalledWith("session_expired", "Expired");
    expect(onLocked).not.toHaveBeenCalled();
  });

  it("an expired password step (mfa_not_pending) is left to the sign-in screen", async () => {
    const onSessionLost = vi.fn();
    configureApi({ onSessionLost, fetch: async () => json(401, { message: "Start again", errors: {}, code: "mfa_not_pending" }) });
    await endpoints.mfaVerify("123456").catch(() => undefined);
    expect(onSessionLost).not.toHaveBeenCalled();
  });
});

describe("lockout and rate limits", () => {
  it("reads locked_out with retry_after and says how long to wait", async () => {
    configureApi({
      fetch: async () => json(403, { message: "Locked out", errors: {}, code: "locked_out", retry_after: 900 }, { "Retry-After": "900" }),
    });
    const err = (await endpoints.login("officer1", "x").catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe("locked_out");
    expect(err.retryAfter).toBe(900);
    expect(err.isSessionLost).toBe(false);
    expect(authErrorMessage(err)).toBe(
      "Too many failed attempts: this account is locked. Try again in 15 minutes, or ask an administrator to unlock it.",
    );
  });

  it("reads a 429's Retry-After header when the body has no retry_after", async () => {
    configureApi({ fetch: async () => json(429, { message: "Slow down", errors: {} }, { "Retry-After": "42" }) });
    const err = (await endpoints.login("officer1", "x").catch((e: unknown) => e)) as ApiError;
    expect(err.retryAfter).toBe(42);
    expect(authErrorMessage(err)).toBe("Too many attempts. Wait 42 seconds and try again.");
  });

  it("formats waits and parses HTTP-date Retry-After", () => {
    expect(formatWait(1)).toBe("1 second");
    expect(formatWait(59)).toBe("59 seconds");
    expect(formatWait(61)).toBe("2 minutes");
    expect(formatWait(3600)).toBe("1 hour");
    expect(formatWait(3900)).toBe("1 hour 5 minutes");
    const now = Date.parse("2026-01-05T12:00:00Z");
    expect(parseRetryAfter("Mon, 05 Jan 2026 12:01:00 GMT", now)).toBe(60);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
