import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EventClient, type SocketLike } from "./events";

/** The device id in the hello and the "seen" receipt frame (docs/realtime.md). */
class Sock implements SocketLike {
  static last: Sock | null = null;
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  constructor() {
    Sock.last = this;
  }
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
}

function client(device?: () => Promise<string | null>) {
  const opts = {
    userId: 1,
    cursors: { get: async () => 4, set: async () => undefined },
    fetchPage: async () => ({ results: [], next_after: 4, has_more: false }),
    onAuthLost: () => undefined,
    url: "ws://test/ws/events/",
    socketFactory: () => new Sock(),
  };
  return new EventClient(device ? { ...opts, device } : opts);
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("device id and seen receipts", () => {
  it("sends the device in every hello", async () => {
    const c = client(async () => "0b7c2c9e-3f2a-4d8e-9c55-1e0f6a7b8c9d");
    await c.start();
    Sock.last!.open();
    expect(Sock.last!.sent[0]).toEqual({ type: "hello", after: 4, device: "0b7c2c9e-3f2a-4d8e-9c55-1e0f6a7b8c9d" });
    expect(c.device).toBe("0b7c2c9e-3f2a-4d8e-9c55-1e0f6a7b8c9d");
    c.stop();
  });
  it("says hello without a device when none is known", async () => {
    const c = client();
    await c.start();
    Sock.last!.open();
    expect(Sock.last!.sent[0]).toEqual({ type: "hello", after: 4 });
    c.stop();
  });
  it("sends seen naming the event on a welcomed socket, and over REST before the welcome", async () => {
    const posted: unknown[] = [];
    const c = new EventClient({
      userId: 1,
      cursors: { get: async () => 4, set: async () => undefined },
      fetchPage: async () => ({ results: [], next_after: 4, has_more: false }),
      onAuthLost: () => undefined,
      url: "ws://test/ws/events/",
      socketFactory: () => new Sock(),
      device: async () => "0b7c2c9e-3f2a-4d8e-9c55-1e0f6a7b8c9d",
      postReceipt: async (r) => void posted.push(r),
    });
    await c.start();
    expect(await c.markSeen(9)).toBe(true); // still connecting: over REST
    expect(posted).toEqual([{ device: "0b7c2c9e-3f2a-4d8e-9c55-1e0f6a7b8c9d", stage: "seen", cursor: 9 }]);
    Sock.last!.open();
    Sock.last!.onmessage?.({ data: JSON.stringify({ type: "welcome", cursor: 4, latest: 5, reset: false }) } as MessageEvent);
    Sock.last!.onmessage?.({
      data: JSON.stringify({ type: "event", cursor: 5, id: "e5", event_type: "assignment.offered", created_at: "2025-01-01T00:00:00Z", data: {}, receipt: true }),
    } as MessageEvent);
    await vi.advanceTimersByTimeAsync(0);
    await c.idle();
    expect(await c.markSeen(5)).toBe(true);
    expect(Sock.last!.sent.at(-1)).toEqual({ type: "seen", cursor: 5, id: "e5" });
    c.stop();
  });
});
