import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, type EventPage, type ServerEvent } from "./api";
import { memoryEventStores, type EventLedger, type ReceiptStore } from "./event-store";
import { EventClient, type AppEvent, type ReceiptPost, type SocketLike } from "./events";
import { memoryTabs, type TabLink } from "./tabs";
import type { CursorStore } from "./userdata";

/**
 * The client's rules of docs/realtime.md, one scenario each; the same rules the chaos test
 * (tests/realtime/test_chaos.py) drives against real servers through frontend/chaos/driver.ts.
 */

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
  welcome(cursor: number, latest = cursor, reset = false) {
    this.frame({ type: "welcome", cursor, latest, reset });
  }
  /** Opens and welcomes from the hello's `after`, as the server does. */
  accept(latest?: number) {
    this.open();
    const after = Number(this.sentOfType("hello")[0]?.after ?? 0);
    this.welcome(after, latest ?? after);
  }
  event(cursor: number, type = "assignment.offered", id = `e${cursor}`) {
    this.frame({ type: "event", cursor, id, event_type: type, created_at: "2025-01-01T00:00:00Z", data: { n: cursor }, receipt: type === "assignment.offered" });
  }
  confirm(cursor: number, stage = "delivered", id = `e${cursor}`) {
    this.frame({ type: "receipt", id, cursor, stage, recorded: true });
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

function restEvent(cursor: number, type = "assignment.offered", id = `e${cursor}`): ServerEvent {
  return { cursor, id, type, created_at: "2025-01-01T00:00:00Z", data: {}, receipt: type === "assignment.offered" };
}

function page(results: ServerEvent[], has_more = false): EventPage {
  const last = results.at(-1);
  return { results, next_after: last ? last.cursor : 0, has_more };
}

async function flush() {
  // Let promise chains (cursor loads, resync, the processing queue, tab messages) settle.
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

interface Device {
  cursors: ReturnType<typeof memoryCursors>;
  ledger: EventLedger;
  receipts: ReceiptStore;
  browser: ReturnType<typeof memoryTabs>;
}

/** One browser profile: what its tabs share (cursor, ledger, receipts, the tab link). */
function device(cursor = 0): Device {
  return { cursors: memoryCursors({ 7: cursor }), ...memoryEventStores(), browser: memoryTabs() };
}

function makeClient(
  opts: {
    cursors?: ReturnType<typeof memoryCursors>;
    fetchPage?: (after: number) => Promise<EventPage>;
    onAuthLost?: () => void;
    on?: Device;
    postReceipt?: (r: ReceiptPost) => Promise<unknown>;
    tabs?: TabLink;
  } = {},
) {
  const fetchPage = vi.fn(opts.fetchPage ?? (async () => page([])));
  const onAuthLost = vi.fn(opts.onAuthLost ?? (() => {}));
  const onLocked = vi.fn();
  const postReceipt = vi.fn(opts.postReceipt ?? (async () => ({ recorded: true })));
  const dev = opts.on ?? device();
  const cursors = opts.cursors ?? dev.cursors;
  const client = new EventClient({
    userId: 7,
    cursors,
    fetchPage,
    onAuthLost,
    onLocked,
    url: "ws://test/ws/events/",
    socketFactory: (url) => new FakeSocket(url),
    random: () => 0.5,
    device: async () => "0b7c2c9e-3f2a-4d8e-9c55-1e0f6a7b8c9d",
    ledger: dev.ledger,
    receipts: dev.receipts,
    postReceipt,
    tabs: opts.tabs ?? dev.browser.tab(),
  });
  const seen: AppEvent[] = [];
  client.subscribe((e) => seen.push(e));
  return { client, fetchPage, onAuthLost, onLocked, cursors, seen, postReceipt, dev };
}

describe("rule 1 and 3: the cursor, the welcome and the REST resync", () => {
  it("says hello with the persisted cursor and does not resync over REST when the welcome is on time", async () => {
    const { client, fetchPage } = makeClient({ on: device(12) });
    await client.start();
    latest().accept(14);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(latest().sent[0]).toMatchObject({ type: "hello", after: 12 });
    expect(client.state.value).toBe("open");
    expect(fetchPage).not.toHaveBeenCalled(); // the welcomed socket replays from 12 itself
    client.stop();
  });

  it("resyncs over REST when the welcome is late (10 s), and when an attempt fails before its welcome", async () => {
    const { client, fetchPage, seen } = makeClient({ on: device(12), fetchPage: async (after) => page([restEvent(after + 1)]) });
    await client.start();
    latest().open(); // accepted, but no welcome
    await vi.advanceTimersByTimeAsync(9_900);
    expect(fetchPage).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(200);
    await flush();
    expect(fetchPage).toHaveBeenCalledWith(12);
    expect(seen.map((e) => e.cursor)).toEqual([13]);
    latest().serverClose(1006); // never welcomed: fell back already within the last 10 s
    await vi.advanceTimersByTimeAsync(10_000);
    latest().serverClose(1006); // refused again: another REST resync
    await flush();
    expect(fetchPage).toHaveBeenCalledTimes(2);
    expect(fetchPage).toHaveBeenLastCalledWith(13);
    client.stop();
  });

  it("finding 1: a welcome echoing an older `after` never lowers the cursor the REST resync moved", async () => {
    // The REST resync (welcome late) delivered 3..5; the socket's welcome then answers the hello's
    // after=2 and replays 3..5. The old client read "2 < 5" as a reset and handed 3..5 to the app again.
    const { client, seen, cursors } = makeClient({
      on: device(2),
      fetchPage: async (after) => page([3, 4, 5].filter((c) => c > after).map((c) => restEvent(c, "test.event"))),
    });
    await client.start();
    const ws = latest();
    ws.open();
    await vi.advanceTimersByTimeAsync(10_100);
    await flush();
    expect(seen.map((e) => e.cursor)).toEqual([3, 4, 5]);
    ws.welcome(2, 5); // reset: false
    for (const c of [3, 4, 5]) ws.event(c, "test.event");
    ws.event(6, "test.event");
    await flush();
    expect(seen.map((e) => e.cursor)).toEqual([3, 4, 5, 6]);
    expect(cursors.data[7]).toBe(6);
    client.stop();
  });

  it("adopts the server's cursor only when the welcome says reset, and hands no known id to the app again", async () => {
    const dev = device(500);
    await dev.ledger.claim(7, "old-1", 1); // handled before the server's database was restored
    const { client, seen, cursors } = makeClient({ on: dev });
    await client.start();
    const ws = latest();
    ws.open();
    ws.welcome(0, 2, true);
    ws.event(1, "test.event", "old-1");
    ws.event(2, "test.event", "new-2");
    await flush();
    expect(seen.map((e) => e.id)).toEqual(["new-2"]);
    expect(cursors.data[7]).toBe(2);
    client.stop();
  });

  it("delivers each cursor once, in order, ignoring replays at or below the last cursor", async () => {
    const { client, seen, cursors } = makeClient({ on: device(5) });
    await client.start();
    const ws = latest();
    ws.accept();
    for (const c of [4, 5, 6, 6, 7, 5, 8]) ws.event(c, "test.event");
    await flush();
    expect(seen.map((e) => e.cursor)).toEqual([6, 7, 8]);
    expect(seen[0]).toMatchObject({ id: "e6", type: "test.event", data: { n: 6 } });
    expect(ws.sentOfType("ack").map((f) => f.cursor)).toEqual([6, 7, 8]);
    expect(cursors.data[7]).toBe(8);
    client.stop();
  });

  it("rule 2: one dedup by id before the app, even for the same id at a new cursor", async () => {
    const { client, seen } = makeClient();
    await client.start();
    const ws = latest();
    ws.accept();
    ws.event(1, "test.event", "a");
    ws.event(2, "test.event", "a");
    ws.event(3, "test.event", "b");
    await flush();
    expect(seen.map((e) => e.id)).toEqual(["a", "b"]);
    client.stop();
  });
});

describe("rule 2 and 6: reload and a second tab", () => {
  it("a reload resumes from the shared cursor and ledger: nothing handled twice even with a stale cursor", async () => {
    const dev = device();
    const first = makeClient({ on: dev });
    await first.client.start();
    latest().accept();
    for (const c of [1, 2, 3]) latest().event(c, "test.event");
    await flush();
    first.client.stop(); // the page reloads
    dev.cursors.data[7] = 1; // as if the cursor write of 2..3 was lost with the page
    const second = makeClient({ on: dev });
    await second.client.start();
    latest().accept(4);
    expect(latest().sent[0]).toMatchObject({ type: "hello", after: 1 });
    for (const c of [2, 3, 4]) latest().event(c, "test.event");
    await flush();
    expect(first.seen.map((e) => e.cursor)).toEqual([1, 2, 3]);
    expect(second.seen.map((e) => e.cursor)).toEqual([4]);
    second.client.stop();
  });

  it("a second tab follows the leader: one socket, each event shown once per tab, handled once per device", async () => {
    const dev = device();
    const a = makeClient({ on: dev });
    const b = makeClient({ on: dev });
    await a.client.start();
    await b.client.start();
    expect(FakeSocket.all).toHaveLength(1); // only the leader connects
    expect(a.client.isLeader && !b.client.isLeader).toBe(true);
    const ws = latest();
    ws.accept();
    await flush();
    expect(b.client.state.value).toBe("open"); // the follower shows the leader's connection
    ws.event(1);
    ws.event(2, "test.event");
    await flush();
    expect(a.seen.map((e) => e.cursor)).toEqual([1, 2]);
    expect(b.seen.map((e) => e.cursor)).toEqual([1, 2]);
    expect(ws.sentOfType("ack")).toHaveLength(2); // receipts from one tab only
    expect(await dev.ledger.claim(7, "e1", 1)).toBe(false);

    // The leading tab closes: the other leads, resumes from the shared cursor, shows nothing twice.
    a.client.stop();
    await flush();
    expect(b.client.isLeader).toBe(true);
    const ws2 = latest();
    expect(ws2).not.toBe(ws);
    ws2.accept(3);
    expect(ws2.sent[0]).toMatchObject({ type: "hello", after: 2 });
    ws2.event(2, "test.event");
    ws2.event(3, "test.event");
    await flush();
    expect(b.seen.map((e) => e.cursor)).toEqual([1, 2, 3]);
    b.client.stop();
  });

  it("without Web Locks both tabs lead, yet each event reaches each tab once and the device once", async () => {
    const dev = device();
    const solo = (): TabLink => {
      const tab = dev.browser.tab();
      return { ...tab, acquire: (_key, onLeader) => (void onLeader(), () => undefined) };
    };
    const a = makeClient({ on: dev, tabs: solo() });
    const b = makeClient({ on: dev, tabs: solo() });
    await a.client.start();
    await b.client.start();
    const [wa, wb] = FakeSocket.all;
    wa!.accept();
    wb!.accept();
    wa!.event(1);
    await flush();
    wb!.event(1);
    await flush();
    expect(a.seen.map((e) => e.id)).toEqual(["e1"]);
    expect(b.seen.map((e) => e.id)).toEqual(["e1"]);
    const receiptsAcked = [...wa!.sentOfType("ack"), ...wb!.sentOfType("ack")].filter((f) => f.id);
    expect(receiptsAcked).toHaveLength(1); // one receipt owed by the device, not two
    a.client.stop();
    b.client.stop();
  });
});

describe("rule 4: receipts that always land", () => {
  it("keeps a receipt until the server confirms it, and sends it again on the next welcome", async () => {
    const { client, dev } = makeClient();
    await client.start();
    let ws = latest();
    ws.accept();
    ws.event(1);
    await flush();
    expect(ws.sentOfType("ack")).toEqual([{ type: "ack", cursor: 1, id: "e1" }]);
    expect(await dev.receipts.list(7)).toHaveLength(1);
    ws.serverClose(1006); // gone before the confirmation
    await vi.advanceTimersByTimeAsync(1_000);
    ws = latest();
    ws.accept(1);
    await flush();
    expect(ws.sentOfType("ack")).toEqual([{ type: "ack", cursor: 1, id: "e1" }]); // sent again
    ws.confirm(1);
    await flush();
    expect(await dev.receipts.list(7)).toEqual([]);
    client.stop();
  });

  it("finding 2: an offer that came by REST while the socket was dying is receipted over REST", async () => {
    const { client, dev, postReceipt, seen } = makeClient({
      fetchPage: async (after) => page([restEvent(1)].filter((e) => e.cursor > after)),
    });
    await client.start();
    const ws = latest();
    ws.accept();
    ws.serverClose(1006);
    // The reconnects fail (the server is away); each failed attempt resyncs over REST.
    await vi.advanceTimersByTimeAsync(1_000);
    latest().serverClose(1006);
    await flush();
    expect(seen.map((e) => e.cursor)).toEqual([1]);
    expect(postReceipt).toHaveBeenCalledWith({ device: "0b7c2c9e-3f2a-4d8e-9c55-1e0f6a7b8c9d", stage: "delivered", cursor: 1, id: "e1" });
    expect(await dev.receipts.list(7)).toEqual([]);
    client.stop();
  });

  it("keeps a receipt the REST post could not deliver, drops one the server refuses for good", async () => {
    let answer: () => Promise<unknown> = async () => {
      throw new TypeError("Failed to fetch");
    };
    const { client, dev, postReceipt } = makeClient({
      fetchPage: async (after) => page([restEvent(1), restEvent(2)].filter((e) => e.cursor > after)),
      postReceipt: () => answer(),
    });
    await client.start();
    latest().serverClose(1006); // the first attempt fails: REST resync, receipts over REST
    await flush();
    expect(postReceipt).toHaveBeenCalled();
    expect((await dev.receipts.list(7)).map((r) => r.cursor)).toEqual([1, 2]);
    answer = async () => {
      throw new ApiError(404, "No such event in your stream.");
    };
    await vi.advanceTimersByTimeAsync(10_000);
    latest().serverClose(1006);
    await flush();
    expect(await dev.receipts.list(7)).toEqual([]);
    client.stop();
  });

  it("markSeen keeps the receipt, names the event on the socket, and forgets it once confirmed", async () => {
    const { client, dev, postReceipt } = makeClient();
    await client.start();
    const ws = latest();
    ws.accept();
    ws.event(4);
    await flush();
    expect(await client.markSeen(4)).toBe(true);
    expect(ws.sentOfType("seen")).toEqual([{ type: "seen", cursor: 4, id: "e4" }]);
    ws.confirm(4, "seen");
    await flush();
    expect(await dev.receipts.list(7)).toEqual([]); // seen implies delivered: both forgotten
    expect(postReceipt).not.toHaveBeenCalled();
    client.stop();
  });

  it("markSeen without a socket goes over REST, and for a cursor not yet handled here too", async () => {
    const { client, postReceipt } = makeClient();
    await client.start();
    expect(await client.markSeen(9)).toBe(true); // still connecting
    expect(postReceipt).toHaveBeenCalledWith({ device: "0b7c2c9e-3f2a-4d8e-9c55-1e0f6a7b8c9d", stage: "seen", cursor: 9 });
    client.stop();
  });

  it("sends receipts still unconfirmed on a quiet socket again after 15 s", async () => {
    const { client } = makeClient();
    await client.start();
    const ws = latest();
    ws.accept();
    ws.event(1);
    await flush();
    expect(ws.sentOfType("ack").filter((f) => f.id)).toHaveLength(1);
    ws.frame({ type: "ping" });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(ws.sentOfType("ack").filter((f) => f.id)).toHaveLength(2);
    client.stop();
  });
});

describe("rule 5: reconnect backoff", () => {
  async function delays(client: EventClient, n: number, dropAfterOpen: (ws: FakeSocket) => void): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const before = FakeSocket.all.length;
      dropAfterOpen(latest());
      let waited = 0;
      while (FakeSocket.all.length === before) {
        await vi.advanceTimersByTimeAsync(250);
        waited += 250;
        if (waited > 60_000) throw new Error("never reconnected");
      }
      out.push(waited);
    }
    void client;
    return out;
  }

  it("is capped at 3 s for the first minute of an outage, then grows to about 30 s", async () => {
    const { client } = makeClient();
    await client.start();
    // random() = 0.5 → 3/4 of the exponential step: 750, 1500, then the 3 s cap (2250) for 60 s.
    const short = await delays(client, 6, (ws) => ws.serverClose(1006));
    expect(short).toEqual([750, 1500, 2250, 2250, 2250, 2250]);
    await vi.advanceTimersByTimeAsync(60_000 - short.reduce((a, b) => a + b, 0)); // the outage is a minute old
    const long = await delays(client, 3, (ws) => ws.serverClose(1006));
    expect(Math.max(...long)).toBeGreaterThan(2250);
    expect(Math.max(...long)).toBeLessThanOrEqual(22_500);
    client.stop();
  });

  it("finding 4: resets on a welcome, not on any frame (accept-then-drop does not keep it short)", async () => {
    const { client } = makeClient();
    await client.start();
    const acceptThenDrop = (ws: FakeSocket) => {
      ws.open();
      ws.frame({ type: "ping" });
      ws.serverClose(1006);
    };
    expect(await delays(client, 3, acceptThenDrop)).toEqual([750, 1500, 2250]);
    const welcomedThenDrop = (ws: FakeSocket) => {
      ws.accept();
      ws.serverClose(1006);
    };
    expect(await delays(client, 2, welcomedThenDrop)).toEqual([750, 750]);
    client.stop();
  });
});

describe("sessions, heartbeats, stop", () => {
  it("treats 4401 as a lost session: reports it and never reconnects", async () => {
    const { client, onAuthLost } = makeClient();
    await client.start();
    latest().accept();
    latest().serverClose(4401);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(onAuthLost).toHaveBeenCalledTimes(1);
    expect(FakeSocket.all).toHaveLength(1);
    expect(client.state.value).toBe("auth_lost");
  });

  it("a follower tab learns the lost session from the leader", async () => {
    const dev = device();
    const a = makeClient({ on: dev });
    const b = makeClient({ on: dev });
    await a.client.start();
    await b.client.start();
    latest().accept();
    latest().serverClose(4401);
    await flush();
    expect(a.onAuthLost).toHaveBeenCalledTimes(1);
    expect(b.onAuthLost).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(60_000);
    // The follower may have taken the lead for a moment; it stopped with the lost session.
    expect(b.client.state.value).toBe("auth_lost");
    expect(FakeSocket.all.every((s) => s.closedWith !== null || s.readyState === 3)).toBe(true);
  });

  it("treats 4423 as a locked session: reports it, no reconnect; after unlock it resumes from its cursor", async () => {
    const { client, onAuthLost, onLocked } = makeClient({ on: device(3) });
    await client.start();
    latest().accept();
    latest().event(4, "test.event");
    await flush();
    latest().serverClose(4423);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(onLocked).toHaveBeenCalledTimes(1);
    expect(onAuthLost).not.toHaveBeenCalled();
    expect(FakeSocket.all).toHaveLength(1);
    expect(client.state.value).toBe("locked");
    // Unlocked: started again, it says hello from the last cursor.
    await client.start();
    expect(FakeSocket.all).toHaveLength(2);
    expect(latest().sentOfType("hello")).toHaveLength(0);
    latest().open();
    expect(latest().sentOfType("hello")[0]).toMatchObject({ after: 4 });
    client.stop();
  });

  it("treats a 401 session_locked from the REST resync as locked, not lost", async () => {
    const { client, onAuthLost, onLocked } = makeClient({
      fetchPage: async () => {
        throw new ApiError(401, "Locked", {}, undefined, "session_locked");
      },
    });
    await client.start();
    latest().serverClose(1006);
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
    await vi.advanceTimersByTimeAsync(10_100);
    await flush();
    expect(onAuthLost).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("answers server pings with pong", async () => {
    const { client } = makeClient();
    await client.start();
    latest().accept();
    latest().frame({ type: "ping" });
    expect(latest().sentOfType("pong")).toHaveLength(1);
    client.stop();
  });

  it("replaces a socket that has been silent for 45 s", async () => {
    const { client } = makeClient();
    await client.start();
    const ws = latest();
    ws.accept();
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
    latest().accept();
    client.stop();
    latest().serverClose(1006);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });
});
