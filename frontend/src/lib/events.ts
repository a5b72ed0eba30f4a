import type { EventPayloads, EventTopic, EventType } from "../generated/events";
import { ApiError, type EventPage } from "./api";
import { Observable } from "./observable";
import type { CursorStore } from "./userdata";

/**
 * Real-time event client. The server's event log is the truth and the WebSocket is a fast hint:
 * - on open, send `hello` with the last processed cursor; the server replays, then goes live;
 * - after every (re)connect, also resync over REST from the last cursor (pages until has_more=false);
 * - events from both paths go through one serial queue and are deduplicated by cursor
 *   (anything <= the last processed cursor is ignored), then acknowledged with `ack`;
 * - the last cursor is persisted per user, so a restart resumes where it stopped;
 * - no frame for 45 s → the socket is treated as dead and replaced;
 * - a `welcome` whose cursor is below ours means the server's stream was reset: adopt its cursor;
 * - close code 4401 → session gone: tell the app, never reconnect;
 * - close code 4423 → session idle-locked: tell the app, no reconnect until it starts us again
 *   (after unlock), which replays from the cursor;
 * - any other close → reconnect with exponential backoff and jitter, capped at 30 s.
 */

export interface AppEvent {
  cursor: number;
  id: string;
  /** A registered type: the server refuses to emit others (apps.realtime.registry). */
  type: EventType;
  created_at: string;
  data: Record<string, unknown>;
}

// Event names are the server's (generated/events.ts, from the event registry). A listener names them
// through these helpers, so tsc refuses a type or topic the server does not declare.
export type { EventTopic, EventType } from "../generated/events";

/** The topic of an event type: "shift" for "shift.updated". */
export function topicOf(type: string): string {
  const dot = type.indexOf(".");
  return dot < 0 ? type : type.slice(0, dot);
}

/** The event belongs to one of `topics` (each a registered topic: checked by tsc). */
export function inTopics(event: { type: string }, topics: readonly EventTopic[]): boolean {
  return (topics as readonly string[]).includes(topicOf(event.type));
}

/** The event is one of `types` (each a registered type: checked by tsc); narrows `data` to its payload. */
export function isEventType<T extends EventType>(event: AppEvent, ...types: T[]): event is AppEvent & { type: T; data: EventPayloads[T] } {
  return (types as readonly string[]).includes(event.type);
}

export type ConnectionState = "idle" | "connecting" | "open" | "closed" | "auth_lost" | "locked";

/** The subset of the browser WebSocket the client uses (so tests can pass a fake). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export interface EventClientOptions {
  userId: number;
  cursors: CursorStore;
  fetchPage: (after: number) => Promise<EventPage>;
  onAuthLost: () => void;
  /** Close code 4423 or a REST 401 session_locked; optional (without it, treated as lost). */
  onLocked?: () => void;
  url?: string;
  socketFactory?: SocketFactory;
  random?: () => number;
  heartbeatTimeoutMs?: number;
  pingAfterMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** The persistent device UUID (lib/device.ts), sent in every hello; optional. */
  device?: () => Promise<string | null>;
}

const OPEN = 1;
export const CLOSE_UNAUTHENTICATED = 4401;
export const CLOSE_LOCKED = 4423;

type ServerFrame =
  | { type: "event"; cursor: number; id: string; event_type: string; created_at: string; data?: Record<string, unknown> }
  | { type: "ping" }
  | { type: "pong" }
  | { type: "welcome"; cursor: number; latest: number }
  | { type: string };

export function defaultEventsUrl(): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws/events/`;
}

export class EventClient {
  readonly state = new Observable<ConnectionState>("idle");
  private listeners = new Set<(event: AppEvent) => void>();
  private lastCursor = 0;
  private ws: SocketLike | null = null;
  private attempt = 0;
  private stopped = true;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setTimeout> | null = null;
  private deadTimer: ReturnType<typeof setTimeout> | null = null;
  private queue: Promise<void> = Promise.resolve();
  private resyncing: Promise<void> | null = null;
  private resyncAgain = false;
  private readonly o: Required<EventClientOptions>;
  private deviceId: string | null = null;

  constructor(options: EventClientOptions) {
    this.o = {
      url: options.url ?? defaultEventsUrl(),
      socketFactory: (url) => new WebSocket(url) as unknown as SocketLike,
      random: Math.random,
      heartbeatTimeoutMs: 45_000,
      pingAfterMs: 20_000,
      baseBackoffMs: 1_000,
      maxBackoffMs: 30_000,
      device: () => Promise.resolve(null),
      onLocked: options.onAuthLost,
      ...options,
    } as Required<EventClientOptions>;
  }

  /** Called for every new event, once, in cursor order. Returns an unsubscribe function. */
  subscribe(callback: (event: AppEvent) => void): () => void {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  get cursor(): number {
    return this.lastCursor;
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.lastCursor = await this.o.cursors.get(this.o.userId);
    this.deviceId = await this.o.device().catch(() => null);
    if (!this.stopped) this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, "client stopped");
    if (this.state.value !== "auth_lost" && this.state.value !== "locked") this.state.set("idle");
  }

  /** Skip the backoff wait (e.g. the browser says it is back online). */
  reconnectNow(): void {
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.connect();
  }

  /** Resolves when every event received so far has been processed (for tests and callers). */
  idle(): Promise<void> {
    return this.queue;
  }

  private connect(): void {
    this.state.set("connecting");
    let ws: SocketLike;
    try {
      ws = this.o.socketFactory(this.o.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.sendFrame(
        this.deviceId ? { type: "hello", after: this.lastCursor, device: this.deviceId } : { type: "hello", after: this.lastCursor },
      );
      this.state.set("open");
      this.armHeartbeat();
      void this.resync();
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (ws !== this.ws) return;
      this.armHeartbeat();
      this.attempt = 0; // the server is really talking to us: the next failure starts from 1 s
      this.handleFrame(ev.data);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (ws !== this.ws) return; // a socket we already replaced
      this.ws = null;
      this.clearTimers();
      if (ev.code === CLOSE_UNAUTHENTICATED) {
        this.authLost();
        return;
      }
      if (ev.code === CLOSE_LOCKED) {
        this.locked();
        return;
      }
      if (this.stopped) return;
      this.state.set("closed");
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      /* a close event follows */
    };
  }

  private handleFrame(raw: unknown): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(raw)) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === "ping") {
      this.sendFrame({ type: "pong" });
    } else if (frame.type === "welcome" && "cursor" in frame) {
      // The server answers hello with the position it will replay from. If that is below ours,
      // our cursor belongs to another stream (database reset, other server): adopt the server's,
      // or every replayed event would be dropped as a duplicate.
      const cursor = Number((frame as { cursor: unknown }).cursor);
      if (Number.isInteger(cursor) && cursor >= 0) {
        this.queue = this.queue.then(async () => {
          if (cursor < this.lastCursor) {
            this.lastCursor = cursor;
            await this.o.cursors.set(this.o.userId, cursor).catch(() => undefined);
          }
        });
      }
    } else if (frame.type === "event" && "cursor" in frame) {
      const f = frame as Extract<ServerFrame, { type: "event" }>;
      this.enqueue([{ cursor: f.cursor, id: f.id, type: f.event_type as EventType, created_at: f.created_at, data: f.data ?? {} }]);
    }
  }

  private enqueue(events: AppEvent[]): Promise<void> {
    this.queue = this.queue.then(async () => {
      for (const event of events) await this.process(event);
    });
    return this.queue;
  }

  private async process(event: AppEvent): Promise<void> {
    if (!Number.isFinite(event.cursor) || event.cursor <= this.lastCursor) return;
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (e) {
        console.error("event listener failed", e);
      }
    }
    this.lastCursor = event.cursor;
    try {
      await this.o.cursors.set(this.o.userId, event.cursor);
    } catch (e) {
      console.error("could not persist event cursor", e);
    }
    this.sendFrame({ type: "ack", cursor: event.cursor });
  }

  /** The person saw event `cursor` on screen (a receipt: docs/realtime.md). False if no socket. */
  markSeen(cursor: number): boolean {
    if (!this.ws || this.ws.readyState !== OPEN) return false;
    this.sendFrame({ type: "seen", cursor });
    return true;
  }

  get device(): string | null {
    return this.deviceId;
  }

  /** REST catch-up from the last cursor; one at a time, with a trailing run if asked again. */
  resync(): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      try {
        do {
          this.resyncAgain = false;
          await this.queue;
          let after = this.lastCursor;
          for (;;) {
            const page = await this.o.fetchPage(after);
            await this.enqueue(page.results as AppEvent[]);
            if (!page.has_more || page.next_after <= after) break;
            after = page.next_after;
          }
        } while (this.resyncAgain && !this.stopped);
      } catch (e) {
        if (e instanceof ApiError && e.isLocked) this.locked();
        else if (e instanceof ApiError && e.isSessionLost) this.authLost();
        // Network errors: the socket's next reconnect resyncs again.
      } finally {
        this.resyncing = null;
      }
    })();
    return this.resyncing;
  }

  private authLost(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, "session ended");
    this.state.set("auth_lost");
    this.o.onAuthLost();
  }

  private locked(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, "session locked");
    this.state.set("locked");
    this.o.onLocked();
  }

  private sendFrame(frame: object): void {
    const ws = this.ws;
    if (ws && ws.readyState === OPEN) {
      try {
        ws.send(JSON.stringify(frame));
      } catch {
        /* closing; the close handler reconnects */
      }
    }
  }

  /** Backoff delay for the current attempt: exponential, capped, with "equal jitter". */
  nextDelay(): number {
    const exp = Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** this.attempt);
    return Math.round(exp / 2 + this.o.random() * (exp / 2));
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = this.nextDelay();
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped && !this.ws) this.connect();
    }, delay);
  }

  private armHeartbeat(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    if (this.deadTimer) clearTimeout(this.deadTimer);
    this.pingTimer = setTimeout(() => this.sendFrame({ type: "ping" }), this.o.pingAfterMs);
    this.deadTimer = setTimeout(() => {
      // Nothing heard for too long: a phone that changed networks may keep a half-open socket
      // that never gets a close event. Drop it and reconnect (which also resyncs over REST).
      const ws = this.ws;
      this.ws = null;
      this.clearTimers();
      ws?.close(4000, "heartbeat timeout");
      if (this.stopped) return;
      this.state.set("closed");
      this.scheduleReconnect();
    }, this.o.heartbeatTimeoutMs);
  }

  private clearTimers(): void {
    for (const t of [this.pingTimer, this.deadTimer, this.reconnectTimer]) if (t) clearTimeout(t);
    this.pingTimer = this.deadTimer = this.reconnectTimer = null;
  }
}
