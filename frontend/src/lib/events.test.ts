import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, type EventPage, type ServerEvent } from "./api";
import { EventClient, type AppEvent, type SocketLike } from "./events";
import type { CursorStore } from "./userdata";

/** A WebSocket stand-in the test drives by hand. */
class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  closedWith: number | null = null;
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
  }
  // ---- server side ----
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  frame(obj: unknown) {
    this.onmessage?.({ data: JSON.stringify(obj) } as MessageEvent);
  }
  event(cursor: number, type = "assignment.offered") {
    this.frame({ type: "event", cursor, id: `e${cursor}`, event_type: type, created_at: "2025-01-01T00:00:00Z", data: { n: cursor } });
  }
  serverClose(code: number) {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }
  sentOfType(type: string) {
    return this.sent.filter((f) => f.type === type);
  }
}

function memoryCursors(initial: Record<number, number> = {}): CursorStore & { data: Record<number, number> } {
  const data = { ...initial };
  return {
    data,
    get: async (id) => data[id] ?? 0,
    set: async (id, c) => {
      data[id] = c;
    },
  };
}

function restEvent(cursor: number): ServerEvent {
  return { cursor, id: `e${cursor}`, type: "assignment.offered", created_at: "2025-01-01T00:00:00Z", data: {}, receipt: true };
}

function page(results: ServerEvent[], has_more = false): EventPage {
  const last = results.at(-1);
  return { results, next_after: last ? last.cursor : 0, has_more };
}

async function flush() {
  // Let promise chains (cursor loads, resync, the processing queue) settle.
  for (let i = 0; i < 10; i++) await vi.advanceTimersByTimeAsync(0);
}

function latest(): FakeSocket {
  const s = FakeSocket.all.at(-1);
  if (!s) throw new Error("no socket");
  return s;
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function makeClient(opts: { cursors?: CursorStore; fetchPage?: (after: number) => Promise<EventPage>; onAuthLost?: () => void } = {}) {
  const fetchPage = vi.fn(opts.fetchPage ?? (async () => page([])));
  const onAuthLost = vi.fn(opts.onAuthLost ?? (() => {}));
  const onLocked = vi.fn();
  const cursors = opts.cursors ?? memoryCursors();
  const client = new EventClient({
    userId: 7,
    cursors,
    fetchPage,
    onAuthLost,
    onLocked,
    url: "ws://test/ws/events/",
    socketFactory: (url) => new FakeSocket(url),
    random: () => 0.5,
  });
  const seen: AppEvent[] = [];
  client.subscribe((e) => seen.push(e));
  return { client, fetchPage, onAuthLost, onLocked, cursors, seen };
}

describe("event client", () => {
  it("says hello with the persisted cursor and resyncs over REST from it", async () => {
    const cursors = memoryCursors({ 7: 12 });
    const { client, fetchPage } = makeClient({ cursors });
    await client.start();
    latest().open();
    await flush();
    expect(latest().sent[0]).toEqual({ type: "hello", after: 12 });
    expect(fetchPage).toHaveBeenCalledWith(12);
    client.stop();
  });

  it("delivers each cursor once, in order, ignoring replays at or below the last cursor", async () => {
    const cursors = memoryCursors({ 7: 5 });
    const { client, seen } = makeClient({ cursors });
    await client.start();
    const ws = latest();
    ws.open();
    for (const c of [4, 5, 6, 6, 7, 5, 8]) ws.event(c);
    await flush();
    expect(seen.map((e) => e.cursor)).toEqual([6, 7, 8]);
    expect(seen[0]).toMatchObject({ id: "e6", type: "assignment.offered", data: { n: 6 } });
    expect(ws.sentOfType("ack").map((f) => f.cursor)).toEqual([6, 7, 8]);
    expect(cursors.data[7]).toBe(8);
    client.stop();
  });

  it("merges REST resync pages and socket replay without duplicates", async () => {
    const { client, seen } = makeClient({
      fetchPage: async (after) => (after === 0 ? page([restEvent(1), restEvent(2)], true) : page([restEvent(3)])),
    });
    await client.start();
    const ws = latest();
    ws.open();
    ws.event(1);
    ws.event(2);
    await flush();
    ws.event(3);
    ws.event(4);
    await flush();
    expect(seen.map((e) => e.cursor)).toEqual([1, 2, 3, 4]);
    client.stop();
  });

  it("reconnects after a drop, says hello from the last cursor and resyncs over REST again", async () => {
    const { client, fetchPage, seen } = makeClient();
    await client.start();
    const first = latest();
    first.open();
    first.event(1);
    first.event(2);
    await flush();
    expect(fetchPage).toHaveBeenCalledTimes(1);

    // Events 3 and 4 happen while we are disconnected; REST returns them after reconnect.
    fetchPage.mockImplementation(async (after: number) => page([restEvent(3), restEvent(4)].filter((e) => e.cursor > after)));
    first.serverClose(1006);
    expect(client.state.value).toBe("closed");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeSocket.all).toHaveLength(2);
    const second = latest();
    second.open();
    await flush();
    expect(second.sent[0]).toEqual({ type: "hello", after: 2 });
    expect(fetchPage).toHaveBeenCalledTimes(2);
    expect(fetchPage).toHaveBeenLastCalledWith(2);
    // The socket replays the same events too: they must not be delivered twice.
    second.event(3);
    second.event(4);
    second.event(5);
    await flush();
    expect(seen.map((e) => e.cursor)).toEqual([1, 2, 3, 4, 5]);
    client.stop();
  });

  it("backs off exponentially with jitter up to about 30 s", async () => {
    const { client } = makeClient();
    await client.start();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = FakeSocket.all.length;
      latest().serverClose(1006);
      let waited = 0;
      while (FakeSocket.all.length === before) {
        await vi.advanceTimersByTimeAsync(250);
        waited += 250;
        if (waited > 60_000) throw new Error("never reconnected");
      }
      delays.push(waited);
    }
    // random() = 0.5 → 3/4 of the exponential step: 750, 1500, 3000, ... capped at 22.5 s.
    expect(delays).toEqual([750, 1500, 3000, 6000, 12000, 22500, 22500, 22500]);
    client.stop();
  });

  it("treats 4401 as a lost session: reports it and never reconnects", async () => {
    const { client, onAuthLost } = makeClient();
    await client.start();
    latest().open();
    latest().serverClose(4401);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(onAuthLost).toHaveBeenCalledTimes(1);
    expect(FakeSocket.all).toHaveLength(1);
    expect(client.state.value).toBe("auth_lost");
  });

  it("treats 4423 as a locked session: reports it, no reconnect; after unlock it resumes from its cursor", async () => {
    const cursors = memoryCursors({ 7: 3 });
    const { client, onAuthLost, onLocked, fetchPage } = makeClient({ cursors });
    await client.start();
    latest().open();
    latest().event(4);
    await flush();
    latest().serverClose(4423);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(onLocked).toHaveBeenCalledTimes(1);
    expect(onAuthLost).not.toHaveBeenCalled();
    expect(FakeSocket.all).toHaveLength(1);
    expect(client.state.value).toBe("locked");
    // Unlocked: started again, it says hello from the last cursor and resyncs from it.
    fetchPage.mockClear();
    await client.start();
    latest().open();
    await flush();
    expect(FakeSocket.all).toHaveLength(2);
    expect(latest().sentOfType("hello")[0]).toMatchObject({ after: 4 });
    expect(fetchPage).toHaveBeenCalledWith(4);
    client.stop();
  });

  it("treats a 401 session_locked from the REST resync as locked, not lost", async () => {
    const { client, onAuthLost, onLocked } = makeClient({
      fetchPage: async () => {
        throw new ApiError(401, "Locked", {}, undefined, "session_locked");
      },
    });
    await client.start();
    latest().open();
    await flush();
    expect(onLocked).toHaveBeenCalledTimes(1);
    expect(onAuthLost).not.toHaveBeenCalled();
  });

  it("treats a 403 from the REST resync as a lost session", async () => {
    const { client, onAuthLost } = makeClient({
      fetchPage: async () => {
        throw new ApiError(403, "Authentication credentials were not provided.");
      },
    });
    await client.start();
    latest().open();
    await flush();
    expect(onAuthLost).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("adopts the server's cursor when its welcome says our cursor is beyond its stream", async () => {
    const cursors = memoryCursors({ 7: 500 });
    const { client, seen } = makeClient({ cursors });
    await client.start();
    const ws = latest();
    ws.open();
    ws.frame({ type: "welcome", cursor: 0, latest: 2 });
    ws.event(1);
    ws.event(2);
    await flush();
    expect(seen.map((e) => e.cursor)).toEqual([1, 2]);
    expect(cursors.data[7]).toBe(2);
    client.stop();
  });

  it("keeps its cursor when the welcome matches it", async () => {
    const cursors = memoryCursors({ 7: 5 });
    const { client, seen } = makeClient({ cursors });
    await client.start();
    const ws = latest();
    ws.open();
    ws.frame({ type: "welcome", cursor: 5, latest: 6 });
    ws.event(5);
    ws.event(6);
    await flush();
    expect(seen.map((e) => e.cursor)).toEqual([6]);
    client.stop();
  });

  it("answers server pings with pong", async () => {
    const { client } = makeClient();
    await client.start();
    latest().open();
    latest().frame({ type: "ping" });
    expect(latest().sentOfType("pong")).toHaveLength(1);
    client.stop();
  });

  it("replaces a socket that has been silent for 45 s", async () => {
    const { client } = makeClient();
    await client.start();
    const ws = latest();
    ws.open();
    await vi.advanceTimersByTimeAsync(30_000);
    ws.frame({ type: "ping" }); // any frame resets the clock
    await vi.advanceTimersByTimeAsync(44_000);
    expect(ws.closedWith).toBeNull();
    expect(ws.sentOfType("ping").length).toBeGreaterThan(0); // we probed it at 20 s of silence
    await vi.advanceTimersByTimeAsync(1_500);
    expect(ws.closedWith).toBe(4000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeSocket.all).toHaveLength(2);
    client.stop();
  });

  it("stops cleanly and does not reconnect after stop()", async () => {
    const { client } = makeClient();
    await client.start();
    latest().open();
    client.stop();
    latest().serverClose(1006);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });
});
