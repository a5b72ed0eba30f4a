import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Me } from "./api";

/**
 * The session as the app runs it (lib/session.ts) against a scripted server: idle lock, the
 * server's 401 session_locked, unlock, the 12-hour limit and revocation. What must hold: the
 * outbox and drafts survive a lock and the 12-hour limit, and replay afterwards.
 */

class NoSocket {
  readyState = 0;
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;
  send() {}
  close() {}
}

const me: Me = { id: 41, username: "officer1", full_name: "Olivia Officer", roles: ["officer"], is_staff: false, current_shift: null, partner: null };

type Handler = (init: RequestInit) => Response;
let routes: Map<string, Handler>;
let requests: Array<{ url: string; method: string; headers: Record<string, string> }>;

function json(status: number, body: unknown): Response {
  return new Response(body === null ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function route(method: string, path: string, handler: Handler | Response) {
  routes.set(`${method} ${path}`, typeof handler === "function" ? handler : () => handler.clone());
}

async function fetchStub(url: string, init: RequestInit = {}): Promise<Response> {
  const method = (init.method ?? "GET").toUpperCase();
  const path = url.split("?")[0] as string;
  requests.push({ url, method, headers: { ...(init.headers as Record<string, string>) } });
  const h = routes.get(`${method} ${path}`);
  return h ? h(init) : json(404, { message: "Not found", errors: {} });
}

async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
}

async function load() {
  vi.resetModules();
  const api = await import("./api");
  const session = await import("./session");
  const drafts = await import("./drafts");
  const db = await import("./db");
  // boot() configures the API; the fetch stub goes in after it so it is the one used.
  const booting = session.boot();
  api.configureApi({ fetch: fetchStub });
  await booting;
  await settle();
  return { api, session, drafts, db };
}

async function putDraft(userId: number, id: string) {
  const db = await import("./db");
  await (await db.appDB()).put("cache", {
    user_id: userId,
    key: `draft:${id}`,
    value: { id, user_id: userId, queued: null },
    saved_at: new Date().toISOString(),
  });
}

async function cacheKeys(userId: number): Promise<string[]> {
  const db = await import("./db");
  const rows = await (await db.appDB()).getAllFromIndex("cache", "by_user", userId);
  return rows.map((r) => r.key).sort();
}

beforeEach(() => {
  routes = new Map();
  requests = [];
  vi.stubGlobal("WebSocket", NoSocket);
  vi.stubGlobal("fetch", fetchStub);
  history.replaceState(null, "", "/team");
  route("GET", "/api/v1/auth/csrf/", json(200, { csrfToken: "tok" }));
  route("GET", "/api/v1/me/", json(200, me));
  route("GET", "/api/v1/auth/session/", json(200, { authenticated: true, locked: false, idle_timeout_seconds: 1800, locks_at: null, expires_at: null, user: me }));
  route("GET", "/api/v1/events/", json(200, { results: [], next_after: 0, has_more: false }));
  route("POST", "/api/v1/auth/lock/", json(204, null));
  route("POST", "/api/v1/auth/logout/", json(204, null));
});

afterEach(async () => {
  vi.unstubAllGlobals();
  const db = await import("./db");
  const conn = await db.appDB();
  await conn.clear("outbox");
  await conn.clear("cache");
});

describe("idle lock", () => {
  it("locks after the idle time: tells the server, keeps the outbox and drafts, unlock replays them", async () => {
    const { session } = await load();
    expect(session.session.value.status).toBe("signed_in");
    await putDraft(me.id, "d1");
    // The server is locked too, so the write waits.
    route("POST", "/api/v1/assignments/5/accept/", json(401, { message: "Locked", errors: {}, code: "session_locked" }));
    session.idle.setTimeoutMs(50);
    await new Promise((r) => setTimeout(r, 150));
    await settle();
    expect(session.session.value).toMatchObject({ status: "locked", user: { id: me.id, full_name: "Olivia Officer" } });
    expect(requests.some((r) => r.method === "POST" && r.url === "/api/v1/auth/lock/" && r.headers["X-Background"] === "1")).toBe(true);

    // Work queued before the lock is still on the device, the draft too.
    const db = await (await import("./db")).appDB();
    await db.add("outbox", {
      id: "w1",
      user_id: me.id,
      method: "POST",
      url: "/api/v1/assignments/5/accept/",
      body: {},
      created_at: new Date().toISOString(),
      status: "pending",
      last_error: null,
      last_status: null,
    });
    expect(await cacheKeys(me.id)).toContain("draft:d1");

    route("POST", "/api/v1/auth/unlock/", json(200, me));
    route("POST", "/api/v1/assignments/5/accept/", json(200, { ok: true }));
    await session.unlock("pw");
    await settle();
    expect(session.session.value.status).toBe("signed_in");
    expect(await db.getAll("outbox")).toEqual([]);
    const replayed = requests.filter((r) => r.url === "/api/v1/assignments/5/accept/");
    expect(replayed.at(-1)?.headers["X-Background"]).toBe("1");
    expect(replayed.at(-1)?.headers["Idempotency-Key"]).toBe("w1");
    expect(await cacheKeys(me.id)).toContain("draft:d1");
    session.idle.stop();
  });

  it("a 401 session_locked from any request shows the lock without wiping anything", async () => {
    const { session, api } = await load();
    await putDraft(me.id, "d2");
    route("GET", "/api/v1/assignments/inbox/", json(401, { message: "Locked", errors: {}, code: "session_locked" }));
    await api.api("/api/v1/assignments/inbox/").catch(() => undefined);
    await settle();
    expect(session.session.value.status).toBe("locked");
    expect(await cacheKeys(me.id)).toEqual(expect.arrayContaining(["draft:d2", "me"]));
  });

  it("a reload while locked shows the lock screen for the session's user", async () => {
    route("GET", "/api/v1/me/", json(401, { message: "Locked", errors: {}, code: "session_locked" }));
    route("GET", "/api/v1/auth/session/", json(200, { authenticated: true, locked: true, idle_timeout_seconds: 1800, locks_at: null, expires_at: null, user: me }));
    const { session } = await load();
    expect(session.session.value).toMatchObject({ status: "locked", user: { id: me.id } });
  });
});

describe("session end", () => {
  it("after the 12-hour limit: sign-in with the notice, drafts and queued writes kept", async () => {
    const { session, api } = await load();
    await putDraft(me.id, "d3");
    route(
      "GET",
      "/api/v1/assignments/inbox/",
      json(401, { message: "Your session has ended (12-hour limit). Sign in again.", errors: {}, code: "session_expired" }),
    );
    await api.api("/api/v1/assignments/inbox/").catch(() => undefined);
    await settle();
    expect(session.session.value).toEqual({ status: "signed_out", notice: session.EXPIRED_NOTICE });
    expect(await cacheKeys(me.id)).toEqual(["draft:d3"]); // the cached /me/ went, the draft stayed
    expect(location.pathname).toBe("/signin");
  });

  it("too many wrong passwords on the lock screen: the server's reason is shown, work kept", async () => {
    const { session } = await load();
    await putDraft(me.id, "d5");
    route("GET", "/api/v1/assignments/inbox/", json(401, { message: "Locked", errors: {}, code: "session_locked" }));
    const { api } = await import("./api");
    await api("/api/v1/assignments/inbox/").catch(() => undefined);
    await settle();
    expect(session.session.value.status).toBe("locked");
    route("POST", "/api/v1/auth/unlock/", json(401, { message: "Too many wrong passwords: sign in again.", errors: {}, code: "session_expired" }));
    await expect(session.unlock("nope")).rejects.toMatchObject({ status: 401 });
    await settle();
    expect(session.session.value).toMatchObject({ status: "signed_out", notice: expect.stringContaining("Too many wrong passwords") });
    expect(await cacheKeys(me.id)).toEqual(["draft:d5"]);
  });

  it("revoked (signed out from another device): the cached data goes, drafts included", async () => {
    const { session, api } = await load();
    await putDraft(me.id, "d4");
    route("GET", "/api/v1/assignments/inbox/", json(401, { message: "Not signed in", errors: {} }));
    await api.api("/api/v1/assignments/inbox/").catch(() => undefined);
    await settle();
    expect(session.session.value).toEqual({ status: "signed_out", notice: session.ENDED_NOTICE });
    expect(await cacheKeys(me.id)).toEqual([]);
  });
});

describe("sign-in with a second step", () => {
  it("password → mfa_required → code → signed in; X-Device-Id follows once signed in", async () => {
    route("GET", "/api/v1/me/", json(403, { message: "Authentication credentials were not provided.", errors: {} }));
    const { session } = await load();
    expect(session.session.value.status).toBe("signed_out");
    route("POST", "/api/v1/auth/login/", json(200, { status: "mfa_required" }));
    expect(await session.signIn("officer1", "pw")).toBe("mfa_required");
    expect(session.session.value.status).toBe("signed_out");
    route("POST", "/api/v1/auth/mfa/verify/", json(200, me));
    route("GET", "/api/v1/me/", json(200, me));
    await session.verifyMfa("123456");
    await settle();
    expect(session.session.value.status).toBe("signed_in");
    expect(location.pathname).toBe("/team");
    const { api } = await import("./api");
    requests = [];
    await api("/api/v1/me/");
    expect(requests[0]?.headers["X-Device-Id"]).toMatch(/^[0-9a-f-]{36}$/);
    session.idle.stop();
  });
});
