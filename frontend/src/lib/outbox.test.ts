import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NetworkError, configureApi, forgetCsrf, send } from "./api";
import { DB_VERSION, openAppDB, type OutboxItem } from "./db";
import { Outbox, type OutboxDeps } from "./outbox";

let dbName: string;
let counter = 0;

beforeEach(() => {
  dbName = `test-${Date.now()}-${counter++}`;
});

function json(status: number, body: unknown): Response {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

type SendFn = OutboxDeps["send"];

function makeOutbox(sendImpl: SendFn, overrides: Partial<OutboxDeps> = {}) {
  let n = 0;
  const onSessionLost = vi.fn();
  const box = new Outbox({
    db: () => openAppDB(dbName),
    send: sendImpl,
    userId: () => 7,
    onSessionLost,
    uuid: () => `uuid-${++n}`,
    replayOnEnqueue: false,
    ...overrides,
  });
  return { box, onSessionLost };
}

async function queueThree(box: Outbox) {
  await box.enqueue({ method: "POST", url: "/api/v1/a/", body: { n: 1 } });
  await box.enqueue({ method: "PATCH", url: "/api/v1/b/", body: { n: 2 } });
  await box.enqueue({ method: "POST", url: "/api/v1/c/", body: { n: 3 } });
}

describe("outbox replay", () => {
  it("replays writes strictly in the order they were queued", async () => {
    const calls: string[] = [];
    const { box } = makeOutbox(async (url) => {
      calls.push(url);
      return json(201, {});
    });
    await queueThree(box);
    const result = await box.replay();
    expect(calls).toEqual(["/api/v1/a/", "/api/v1/b/", "/api/v1/c/"]);
    expect(result).toEqual({ sent: 3, rejected: 0, stopped: null });
  });

  it("removes an item once the server answers 2xx", async () => {
    const { box } = makeOutbox(async () => json(200, { ok: true }));
    await queueThree(box);
    expect(box.pending.value).toBe(3);
    await box.replay();
    expect(await box.list()).toEqual([]);
    expect(box.pending.value).toBe(0);
  });

  it("keeps everything and stops the round on a network error", async () => {
    const sendFn = vi.fn<SendFn>(async () => {
      throw new NetworkError("Failed to fetch");
    });
    const { box } = makeOutbox(sendFn);
    await queueThree(box);
    const result = await box.replay();
    expect(result.stopped).toBe("network");
    expect(sendFn).toHaveBeenCalledTimes(1);
    const items = await box.list();
    expect(items.map((i) => i.status)).toEqual(["pending", "pending", "pending"]);
    expect(items[0]?.last_error).toBe("Failed to fetch");
    expect(box.pending.value).toBe(3);
  });

  it("marks a 4xx as rejected with the server's message and goes on with the rest", async () => {
    const sendFn = vi.fn<SendFn>(async (url) =>
      url === "/api/v1/b/"
        ? json(409, { message: "Assignment is no longer open", errors: {}, current: { status: "Cancelled" } })
        : json(201, {}),
    );
    const { box } = makeOutbox(sendFn);
    await queueThree(box);
    const result = await box.replay();
    expect(result).toEqual({ sent: 2, rejected: 1, stopped: null });
    expect(sendFn).toHaveBeenCalledTimes(3);
    const items = await box.list();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      url: "/api/v1/b/",
      status: "rejected",
      last_error: "Assignment is no longer open",
      last_status: 409,
      current: { status: "Cancelled" },
    });
    expect(box.rejected.value).toBe(1);
    expect(box.pending.value).toBe(0);
    // A rejected item is not sent again on the next round.
    await box.replay();
    expect(sendFn).toHaveBeenCalledTimes(3);
  });

  it("keeps the item and stops the round on a 5xx", async () => {
    const sendFn = vi.fn<SendFn>(async () => json(503, { message: "Service unavailable", errors: {} }));
    const { box } = makeOutbox(sendFn);
    await queueThree(box);
    const result = await box.replay();
    expect(result.stopped).toBe("server");
    expect(sendFn).toHaveBeenCalledTimes(1);
    const items = await box.list();
    expect(items.map((i) => i.status)).toEqual(["pending", "pending", "pending"]);
    expect(items[0]?.last_status).toBe(503);
  });

  it("resumes where it stopped once the server recovers", async () => {
    let down = true;
    const calls: string[] = [];
    const { box } = makeOutbox(async (url) => {
      calls.push(url);
      return down ? json(502, { message: "Bad gateway", errors: {} }) : json(201, {});
    });
    await queueThree(box);
    await box.replay();
    down = false;
    await box.replay();
    expect(calls).toEqual(["/api/v1/a/", "/api/v1/a/", "/api/v1/b/", "/api/v1/c/"]);
    expect(await box.list()).toEqual([]);
  });

  it("does not reject a write when the session is gone: keeps it and asks for sign-in", async () => {
    const sendFn = vi.fn<SendFn>(async () =>
      json(403, { message: "Authentication credentials were not provided.", errors: {} }),
    );
    const { box, onSessionLost } = makeOutbox(sendFn);
    await queueThree(box);
    const result = await box.replay();
    expect(result.stopped).toBe("session");
    expect(onSessionLost).toHaveBeenCalledTimes(1);
    expect((await box.list()).every((i) => i.status === "pending")).toBe(true);
  });

  it("keeps every write when the session is locked, and sends them after unlock", async () => {
    let locked = true;
    const calls: string[] = [];
    const onLocked = vi.fn();
    const { box, onSessionLost } = makeOutbox(
      async (url) => {
        calls.push(url);
        return locked ? json(401, { message: "Session locked", errors: {}, code: "session_locked" }) : json(201, {});
      },
      { onLocked },
    );
    await queueThree(box);
    const result = await box.replay();
    expect(result.stopped).toBe("session");
    expect(onLocked).toHaveBeenCalledTimes(1);
    expect(onSessionLost).not.toHaveBeenCalled();
    const kept = await box.list();
    expect(kept).toHaveLength(3);
    expect(kept.every((i) => i.status === "pending")).toBe(true);
    locked = false;
    expect(await box.replay()).toEqual({ sent: 3, rejected: 0, stopped: null });
    expect(calls).toEqual(["/api/v1/a/", "/api/v1/a/", "/api/v1/b/", "/api/v1/c/"]);
  });

  it("keeps writes after the 12-hour limit and says why", async () => {
    const { box, onSessionLost } = makeOutbox(async () => json(401, { message: "Expired", errors: {}, code: "session_expired" }));
    await queueThree(box);
    await box.replay();
    expect(onSessionLost).toHaveBeenCalledWith("session_expired");
    expect(await box.list()).toHaveLength(3);
  });

  it("replays in the background: X-Background on every replayed write", async () => {
    const headers: Array<Record<string, string>> = [];
    configureApi({
      fetch: async (_url, init) => {
        headers.push({ ...(init?.headers as Record<string, string>) });
        return json(201, {});
      },
      userActive: () => true,
    });
    document.cookie = "csrftoken=tok";
    const { box } = makeOutbox(send);
    await queueThree(box);
    await box.replay();
    document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
    expect(headers).toHaveLength(3);
    expect(headers.every((h) => h["X-Background"] === "1")).toBe(true);
  });

  it("replays only the signed-in user's writes", async () => {
    let user = 7;
    const calls: string[] = [];
    const { box } = makeOutbox(
      async (url) => {
        calls.push(url);
        return json(201, {});
      },
      { userId: () => user },
    );
    await box.enqueue({ method: "POST", url: "/api/v1/mine/" });
    user = 8;
    await box.replay();
    expect(calls).toEqual([]);
    user = 7;
    await box.replay();
    expect(calls).toEqual(["/api/v1/mine/"]);
  });

  it("sends each item's client UUID as the Idempotency-Key header, with the CSRF token", async () => {
    const fetchMock = vi.fn(async (url: string, _init?: RequestInit) =>
      url === "/api/v1/auth/csrf/" ? json(200, { csrfToken: "tok-123" }) : json(201, {}),
    );
    configureApi({ fetch: fetchMock });
    forgetCsrf();
    const { box } = makeOutbox(send);
    const item = await box.enqueue({ method: "POST", url: "/api/v1/things/", body: { a: 1 } });
    await box.replay();
    const call = fetchMock.mock.calls.find(([url]) => url === "/api/v1/things/");
    expect(call).toBeDefined();
    const init = call?.[1] as RequestInit;
    const headers = init.headers as Record<string, string>;
    expect(item.id).toBe("uuid-1");
    expect(headers["Idempotency-Key"]).toBe("uuid-1");
    expect(headers["X-CSRFToken"]).toBe("tok-123");
    expect(init.method).toBe("POST");
    expect(init.credentials).toBe("same-origin");
    expect(init.body).toBe(JSON.stringify({ a: 1 }));
  });

  it("uses crypto.randomUUID for ids by default", async () => {
    const box = new Outbox({
      db: () => openAppDB(dbName),
      send: async () => json(201, {}),
      userId: () => 1,
      onSessionLost: () => {},
      replayOnEnqueue: false,
    });
    const a = await box.enqueue({ method: "POST", url: "/x/" });
    const b = await box.enqueue({ method: "POST", url: "/x/" });
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.id).not.toBe(b.id);
  });
});

describe("a rejection settled by a later success", () => {
  const NOTE_SIGN = "/api/v1/clinical/notes/n-1/sign/";

  it("clears the refused signature once a later signature of the same note goes through", async () => {
    let refuse = true;
    const { box } = makeOutbox(async () => (refuse ? json(400, { message: "The note cannot be signed yet.", errors: {} }) : json(200, {})));
    await box.enqueue({ method: "POST", url: NOTE_SIGN, body: { revision: 1 }, label: "Note signed" });
    await box.replay();
    expect(box.rejected.value).toBe(1);
    refuse = false;
    await box.enqueue({ method: "POST", url: NOTE_SIGN, body: { revision: 2 }, label: "Note signed" });
    await box.replay();
    // Nothing left to review: the header's "not accepted" and the outbox screen are clear.
    expect(await box.list()).toEqual([]);
    expect(box.rejected.value).toBe(0);
  });

  it("keeps a rejection of a different change: another referral, another disposition, an explicit key", async () => {
    let refuse = true;
    const { box } = makeOutbox(async () => (refuse ? json(409, { message: "no" }) : json(201, {})));
    await box.enqueue({ method: "POST", url: "/api/v1/encounters/e/referrals/", body: { id: "r-1" } });
    await box.enqueue({ method: "POST", url: "/api/v1/clinical/encounters/e/dispositions/", body: { code: "arrest" }, key: "disp arrest" });
    await box.enqueue({ method: "POST", url: "/api/v1/followups/3/attempts/", body: { outcome: "no_answer" }, key: "attempt 1" });
    await box.replay();
    expect(box.rejected.value).toBe(3);
    refuse = false;
    await box.enqueue({ method: "POST", url: "/api/v1/encounters/e/referrals/", body: { id: "r-2" } });
    await box.enqueue({ method: "POST", url: "/api/v1/clinical/encounters/e/dispositions/", body: { code: "citation" }, key: "disp citation" });
    await box.enqueue({ method: "POST", url: "/api/v1/followups/3/attempts/", body: { outcome: "reached" }, key: "attempt 2" });
    await box.replay();
    expect((await box.list()).map((i) => i.status)).toEqual(["rejected", "rejected", "rejected"]);
    // The same referral sent again (same id) settles its own rejection.
    await box.enqueue({ method: "POST", url: "/api/v1/encounters/e/referrals/", body: { id: "r-1" } });
    await box.replay();
    expect(box.rejected.value).toBe(2);
  });

  it("never clears a rejection queued after the write that succeeded", async () => {
    const answers = [json(200, {}), json(400, { message: "bad" })];
    const { box } = makeOutbox(async () => answers.shift() ?? json(200, {}));
    await box.enqueue({ method: "PATCH", url: "/api/v1/clinical/notes/n-1/", body: { revision: 1 } });
    await box.enqueue({ method: "PATCH", url: "/api/v1/clinical/notes/n-1/", body: { revision: 2 } });
    await box.replay();
    expect((await box.list()).map((i) => [i.status, (i.body as { revision: number }).revision])).toEqual([["rejected", 2]]);
  });
});

describe("database upgrades", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("keeps pending outbox items when a v1 database is upgraded to the current version", async () => {
    const v1 = await openAppDB(dbName, 1);
    expect([...v1.objectStoreNames].sort()).toEqual(["cursors", "outbox"]);
    const item = (n: number): OutboxItem => ({
      id: `old-${n}`,
      user_id: 7,
      method: "POST",
      url: `/api/v1/notes/${n}/`,
      body: { text: "x" },
      created_at: new Date(2025, 0, n).toISOString(),
      status: "pending",
      last_error: null,
    });
    await v1.add("outbox", item(1));
    await v1.add("outbox", item(2));
    await v1.put("cursors", { user_id: 7, cursor: 41 });
    v1.close();

    const current = await openAppDB(dbName, DB_VERSION);
    expect(current.version).toBe(DB_VERSION);
    expect([...current.objectStoreNames].sort()).toEqual(["cache", "cursors", "outbox"]);
    const items = await current.getAll("outbox");
    expect(items.map((i) => i.id)).toEqual(["old-1", "old-2"]);
    // The index added in v2 covers rows written before it existed.
    expect((await current.getAllFromIndex("outbox", "by_user", 7)).map((i) => i.id)).toEqual(["old-1", "old-2"]);
    expect((await current.get("cursors", 7))?.cursor).toBe(41);
    current.close();

    // And the outbox replays them after the upgrade, in order.
    const calls: string[] = [];
    const box = new Outbox({
      db: () => openAppDB(dbName),
      send: async (url) => {
        calls.push(url);
        return json(201, {});
      },
      userId: () => 7,
      onSessionLost: () => {},
      replayOnEnqueue: false,
    });
    await box.replay();
    expect(calls).toEqual(["/api/v1/notes/1/", "/api/v1/notes/2/"]);
  });

  it("creates every store even if an empty v1 database already existed", async () => {
    const { openDB } = await import("idb");
    (await openDB(dbName, 1)).close();
    const db = await openAppDB(dbName);
    expect([...db.objectStoreNames].sort()).toEqual(["cache", "cursors", "outbox"]);
    db.close();
  });
});
