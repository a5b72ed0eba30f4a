import type { EventPayloads, EventTopic, EventType } from "../generated/events";
import { ApiError, type EventPage } from "./api";
import { memoryEventStores, type EventLedger, type PendingReceipt, type ReceiptStage, type ReceiptStore } from "./event-store";
import { Observable } from "./observable";
import { browserTabs, type TabLink } from "./tabs";
import type { CursorStore } from "./userdata";

/**
 * Real-time event client: the client's rules of docs/realtime.md ("The client's rules"), one by one.
 * The server's event log is the truth and the WebSocket is a fast hint.
 *
 * 1. Cursor: the last cursor processed, persisted per user. It only moves up, except when a welcome
 *    says `reset: true` (the server's stream restarted): then it becomes the welcome's cursor. A lower
 *    number in a welcome or a REST page never lowers it.
 * 2. One dedup by event id before the app sees anything: an event goes to the app only if this call
 *    claims its id in the device's ledger (IndexedDB, shared by the tabs; event-store.ts). So an event
 *    is handled once whatever brought it (socket, REST), after a reload, a reset, in a second tab.
 *    Within one stream, anything at or below the cursor is skipped before the ledger is asked.
 * 3. The REST resync waits for the welcome: it runs only when a connection attempt failed or was not
 *    welcomed within `welcomeTimeoutMs` (10 s: a server busy with a reconnect storm is slow, not gone,
 *    and REST requests would only add to its load) — a welcomed socket replays from the cursor itself.
 * 4. Receipts: an event marked `receipt: true` gets a pending receipt (IndexedDB) before the app sees
 *    it; `ack`/`seen` name its id and the server confirms with a `receipt` frame; only then is it
 *    forgotten. Unconfirmed receipts are sent again on every welcome (and every `receiptRetryMs` on a
 *    quiet socket), and over `POST /api/v1/events/receipts/` while no socket is welcomed. Events that
 *    came by REST are receipted the same way.
 * 5. Backoff: exponential with "equal jitter" from `baseBackoffMs`, reset by a welcome (not by any
 *    frame: a server that accepts and drops must not keep the delay short). The cap is
 *    `shortBackoffCapMs` (3 s) for the first `longOutageMs` (60 s) without a welcomed socket, so a
 *    fault of a few seconds costs at most 3 s more; then `maxBackoffMs` (30 s).
 * 6. Tabs: one tab per browser and user leads (a Web Lock; tabs.ts) and holds the socket; it sends
 *    each event it hands to its app to the other tabs (BroadcastChannel), which show it once each.
 *    When the leader closes, the next tab leads and resumes from the shared cursor and ledger.
 * - no frame for 45 s → the socket is treated as dead and replaced;
 * - close code 4401 → session gone: tell the app, never reconnect;
 * - close code 4423 → session idle-locked: tell the app, no reconnect until it starts us again
 *   (after unlock), which replays from the cursor;
 * - any other close → reconnect with the backoff of rule 5.
 */

export interface AppEvent {
  cursor: number;
  id: string;
  /** A registered type: the server refuses to emit others (apps.realtime.registry). */
  type: EventType;
  created_at: string;
  data: Record<string, unknown>;
  /** The type takes delivery receipts (the server says so per event). */
  receipt?: boolean;
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

/** A receipt sent over REST (`POST /api/v1/events/receipts/`). */
export interface ReceiptPost {
  device: string;
  stage: ReceiptStage;
  cursor: number;
  id?: string;
}

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
  now?: () => number;
  heartbeatTimeoutMs?: number;
  pingAfterMs?: number;
  baseBackoffMs?: number;
  /** The backoff's cap once no socket has been welcomed for `longOutageMs`. */
  maxBackoffMs?: number;
  /** The backoff's cap during the first `longOutageMs` of an outage (rule 5). */
  shortBackoffCapMs?: number;
  longOutageMs?: number;
  /** A connection attempt not welcomed within this long is backed by a REST resync (rule 3). */
  welcomeTimeoutMs?: number;
  /** On a welcomed socket, receipts still unconfirmed after this long are sent again. */
  receiptRetryMs?: number;
  /** The persistent device UUID (lib/device.ts), sent in every hello; optional. */
  device?: () => Promise<string | null>;
  /** The device's ledger of handled event ids (rule 2); default: this tab's memory. */
  ledger?: EventLedger;
  /** The device's unconfirmed receipts (rule 4); default: this tab's memory. */
  receipts?: ReceiptStore;
  /** Sends one receipt over REST; an ApiError 4xx means "refused for good", anything else "try later". */
  postReceipt?: (receipt: ReceiptPost) => Promise<unknown>;
  /** The other tabs of this browser (rule 6); default: Web Locks + BroadcastChannel when available. */
  tabs?: TabLink;
}

const OPEN = 1;
export const CLOSE_UNAUTHENTICATED = 4401;
export const CLOSE_LOCKED = 4423;
const RECEIPTS_PER_FLUSH = 500;
const VIEW_MEMORY = 5000;

type EventFrame = { type: "event"; cursor: number; id: string; event_type: string; created_at: string; data?: Record<string, unknown>; receipt?: boolean };
type WelcomeFrame = { type: "welcome"; cursor: number; latest: number; reset?: boolean };
type ReceiptFrame = { type: "receipt"; id: string; cursor: number; stage: ReceiptStage; recorded: boolean };
type ServerFrame = EventFrame | WelcomeFrame | ReceiptFrame | { type: "ping" } | { type: "pong" } | { type: string };

/** Messages between the tabs of one browser (rule 6). */
type TabMessage =
  | { kind: "event"; event: AppEvent }
  | { kind: "state"; state: ConnectionState }
  | { kind: "ask-state" }
  | { kind: "auth_lost" }
  | { kind: "locked" };

export function defaultEventsUrl(): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws/events/`;
}

export class EventClient {
  readonly state = new Observable<ConnectionState>("idle");
  private listeners = new Set<(event: AppEvent) => void>();
  private lastCursor = 0;
  private ws: SocketLike | null = null;
  /** The current socket has been welcomed (rule 3, 5). */
  private welcomed = false;
  private attempt = 0;
  /** When the last welcomed socket was lost (or the first attempt failed): the outage's start (rule 5). */
  private outageSince: number | null = null;
  private lastFallbackAt = -Infinity;
  private stopped = true;
  private leading = false;
  private releaseLead: (() => void) | null = null;
  private stopListening: (() => void) | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setTimeout> | null = null;
  private deadTimer: ReturnType<typeof setTimeout> | null = null;
  private welcomeTimer: ReturnType<typeof setTimeout> | null = null;
  private receiptTimer: ReturnType<typeof setInterval> | null = null;
  private queue: Promise<void> = Promise.resolve();
  private resyncing: Promise<void> | null = null;
  private resyncAgain = false;
  private flushingRest: Promise<void> | null = null;
  /** Ids this tab has shown to its app (the per-tab half of rule 2, for broadcast events). */
  private shown = new Set<string>();
  /** Recent cursor → id, so `markSeen(cursor)` can name the event. */
  private recentIds = new Map<number, string>();
  private readonly o: Required<EventClientOptions>;
  private deviceId: string | null = null;

  constructor(options: EventClientOptions) {
    const stores = options.ledger && options.receipts ? null : memoryEventStores();
    this.o = {
      url: options.url ?? defaultEventsUrl(),
      socketFactory: (url) => new WebSocket(url) as unknown as SocketLike,
      random: Math.random,
      now: () => Date.now(),
      heartbeatTimeoutMs: 45_000,
      pingAfterMs: 20_000,
      baseBackoffMs: 1_000,
      maxBackoffMs: 30_000,
      shortBackoffCapMs: 3_000,
      longOutageMs: 60_000,
      welcomeTimeoutMs: 10_000,
      receiptRetryMs: 15_000,
      device: () => Promise.resolve(null),
      onLocked: options.onAuthLost,
      postReceipt: () => Promise.reject(new Error("no REST receipts configured")),
      tabs: options.tabs ?? browserTabs(),
      ...options,
      ledger: options.ledger ?? stores!.ledger,
      receipts: options.receipts ?? stores!.receipts,
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

  /** This tab holds the socket (rule 6). */
  get isLeader(): boolean {
    return this.leading;
  }

  private get lockKey(): string {
    return `coresponse-events-${this.o.userId}`;
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.lastCursor = await this.o.cursors.get(this.o.userId);
    this.deviceId = await this.o.device().catch(() => null);
    if (this.stopped) return;
    this.stopListening = this.o.tabs.listen(this.lockKey, (m) => this.onTabMessage(m as TabMessage));
    const granted: { lead: Promise<void> | null } = { lead: null };
    this.releaseLead = this.o.tabs.acquire(this.lockKey, () => {
      const lead = this.becomeLeader();
      granted.lead ??= lead;
      return lead;
    });
    if (granted.lead) {
      await granted.lead; // granted at once: connected when start() returns
    } else {
      this.setState("connecting");
      this.o.tabs.post(this.lockKey, { kind: "ask-state" } satisfies TabMessage);
    }
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    if (ws) ws.close(1000, "client stopped");
    this.leading = false;
    this.releaseLead?.();
    this.releaseLead = null;
    this.stopListening?.();
    this.stopListening = null;
    if (this.state.value !== "auth_lost" && this.state.value !== "locked") this.state.set("idle");
  }

  /** Skip the backoff wait (e.g. the browser says it is back online). */
  reconnectNow(): void {
    if (this.stopped || !this.leading || this.ws) return;
    this.attempt = 0;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.connect();
  }

  /** Resolves when every event received so far has been processed (for tests and callers). */
  idle(): Promise<void> {
    return this.queue;
  }

  private async becomeLeader(): Promise<void> {
    if (this.stopped) return;
    this.leading = true;
    // The shared cursor: another tab may have led and moved it since this one started.
    const stored = await this.o.cursors.get(this.o.userId).catch(() => this.lastCursor);
    if (this.stopped) return;
    this.lastCursor = Math.max(this.lastCursor, stored);
    void this.o.ledger.prune().catch(() => undefined);
    this.connect();
  }

  private setState(state: ConnectionState): void {
    this.state.set(state);
    if (this.leading) this.o.tabs.post(this.lockKey, { kind: "state", state } satisfies TabMessage);
  }

  private onTabMessage(message: TabMessage): void {
    if (this.stopped || !message || typeof message !== "object") return;
    if (message.kind === "ask-state") {
      if (this.leading) this.o.tabs.post(this.lockKey, { kind: "state", state: this.state.value } satisfies TabMessage);
      return;
    }
    if (message.kind === "event") {
      // Shown by the tab that claimed it (without Web Locks that may be another leading tab).
      const event = message.event;
      if (!this.shown.has(event.id)) this.show(event);
      if (!this.leading) this.lastCursor = Math.max(this.lastCursor, event.cursor);
      return;
    }
    // The session (a cookie) is the browser's: lost or locked in one tab is lost or locked in all,
    // even in the tab that took the lead when the tab that found out stopped.
    if (message.kind === "auth_lost") {
      this.authLost(false);
    } else if (message.kind === "locked") {
      this.locked(false);
    } else if (message.kind === "state" && !this.leading) {
      this.state.set(message.state);
    }
  }

  private connect(): void {
    this.setState("connecting");
    let ws: SocketLike;
    try {
      ws = this.o.socketFactory(this.o.url);
    } catch {
      this.fallbackResync();
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
    this.welcomeTimer = setTimeout(() => {
      this.welcomeTimer = null;
      if (ws === this.ws && !this.welcomed) this.fallbackResync(); // rule 3: the welcome is late
    }, this.o.welcomeTimeoutMs);
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.sendFrame(
        this.deviceId ? { type: "hello", after: this.lastCursor, device: this.deviceId } : { type: "hello", after: this.lastCursor },
      );
      this.armHeartbeat();
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (ws !== this.ws) return;
      this.armHeartbeat();
      this.handleFrame(ev.data);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (ws !== this.ws) return; // a socket we already replaced
      this.socketLost();
      if (ev.code === CLOSE_UNAUTHENTICATED) {
        this.authLost(true);
        return;
      }
      if (ev.code === CLOSE_LOCKED) {
        this.locked(true);
        return;
      }
      if (this.stopped) return;
      this.setState("closed");
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      /* a close event follows */
    };
  }

  /** The current socket is gone (closed, or dropped as dead). */
  private socketLost(): void {
    const wasWelcomed = this.welcomed;
    this.ws = null;
    this.welcomed = false;
    this.clearTimers();
    if (wasWelcomed) this.outageSince = this.o.now();
    else this.fallbackResync(); // rule 3: this attempt failed before its welcome
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
    } else if (frame.type === "welcome") {
      this.onWelcome(frame as WelcomeFrame);
    } else if (frame.type === "event") {
      const f = frame as EventFrame;
      this.enqueue([{ cursor: f.cursor, id: f.id, type: f.event_type as EventType, created_at: f.created_at, data: f.data ?? {}, receipt: f.receipt === true }]);
    } else if (frame.type === "receipt") {
      const f = frame as ReceiptFrame;
      void this.confirmed({ id: f.id, cursor: f.cursor }, f.stage);
    }
  }

  private onWelcome(frame: WelcomeFrame): void {
    const cursor = Number(frame.cursor);
    this.welcomed = true;
    this.attempt = 0; // rule 5: only a welcome proves the server serves us
    this.outageSince = null;
    if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
    this.welcomeTimer = null;
    this.setState("open");
    this.queue = this.queue.then(async () => {
      // Rule 1: a reset is said explicitly; a lower number alone never lowers the cursor.
      if (frame.reset === true && Number.isInteger(cursor) && cursor >= 0 && cursor !== this.lastCursor) {
        this.lastCursor = cursor;
        await this.o.cursors.set(this.o.userId, cursor).catch(() => undefined);
      }
    });
    void this.flushReceipts();
    if (this.receiptTimer) clearInterval(this.receiptTimer);
    this.receiptTimer = setInterval(() => void this.flushReceipts(this.o.receiptRetryMs), this.o.receiptRetryMs);
  }

  private enqueue(events: AppEvent[]): Promise<void> {
    this.queue = this.queue.then(async () => {
      for (const event of events) await this.process(event);
    });
    return this.queue;
  }

  private async process(event: AppEvent): Promise<void> {
    if (!Number.isFinite(event.cursor) || event.cursor <= this.lastCursor) return;
    // Rule 2: the device's ledger decides whether the app has seen this id (another tab, a reload,
    // the other path, before a reset). Without storage, this tab's memory decides.
    let fresh: boolean;
    try {
      fresh = await this.o.ledger.claim(this.o.userId, event.id, event.cursor);
    } catch {
      fresh = !this.shown.has(event.id);
    }
    if (fresh && event.receipt) {
      // Rule 4: owed before the app sees it, kept until the server confirms it.
      await this.o.receipts
        .put({ user_id: this.o.userId, id: event.id, cursor: event.cursor, stage: "delivered", created_at: this.o.now() })
        .catch(() => undefined);
    }
    if (fresh && !this.shown.has(event.id)) {
      this.show(event);
      this.o.tabs.post(this.lockKey, { kind: "event", event } satisfies TabMessage);
    }
    this.lastCursor = event.cursor;
    try {
      await this.o.cursors.set(this.o.userId, event.cursor);
    } catch (e) {
      console.error("could not persist event cursor", e);
    }
    this.sendFrame(fresh && event.receipt ? { type: "ack", cursor: event.cursor, id: event.id } : { type: "ack", cursor: event.cursor });
  }

  /** Hands the event to this tab's app (once per tab). */
  private show(event: AppEvent): void {
    this.shown.add(event.id);
    if (this.shown.size > VIEW_MEMORY) this.shown.delete(this.shown.values().next().value as string);
    this.recentIds.set(event.cursor, event.id);
    if (this.recentIds.size > 500) this.recentIds.delete(this.recentIds.keys().next().value as number);
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (e) {
        console.error("event listener failed", e);
      }
    }
  }

  /**
   * The person saw event `cursor` on screen (a receipt: docs/realtime.md). The receipt is kept on the
   * device and sent now (socket, else REST) and again until the server confirms it. False only when
   * it could be neither kept nor sent.
   */
  async markSeen(cursor: number): Promise<boolean> {
    const id = this.recentIds.get(cursor) ?? (await this.o.ledger.idAt(this.o.userId, cursor).catch(() => null));
    const receipt: PendingReceipt = { user_id: this.o.userId, id, cursor, stage: "seen", created_at: this.o.now() };
    let kept = true;
    try {
      await this.o.receipts.put(receipt);
    } catch {
      kept = false;
    }
    if (id && this.canSend()) {
      this.sendFrame({ type: "seen", cursor, id });
      return true;
    }
    return (await this.postReceipt(receipt)) || kept;
  }

  get device(): string | null {
    return this.deviceId;
  }

  private canSend(): boolean {
    return this.leading && this.welcomed && this.ws !== null && this.ws.readyState === OPEN;
  }

  /** The server confirmed (or refused for good) a receipt: forget it. A seen implies delivered. */
  private async confirmed(r: { id: string | null; cursor: number }, stage: ReceiptStage): Promise<void> {
    const stages: ReceiptStage[] = stage === "seen" ? ["seen", "delivered"] : ["delivered"];
    for (const s of stages) await this.o.receipts.remove(this.o.userId, { ...r, stage: s }).catch(() => undefined);
  }

  /**
   * Rule 4: sends the unconfirmed receipts again (those older than `olderThanMs`): named by id on a
   * welcomed socket; over REST when there is no welcomed socket or the id is unknown.
   */
  private async flushReceipts(olderThanMs = 0): Promise<void> {
    let pending: PendingReceipt[];
    try {
      pending = await this.o.receipts.list(this.o.userId);
    } catch {
      return;
    }
    const due = pending.filter((r) => this.o.now() - r.created_at >= olderThanMs).slice(0, RECEIPTS_PER_FLUSH);
    for (const r of due) {
      if (r.id && this.canSend()) {
        this.sendFrame({ type: r.stage === "seen" ? "seen" : "ack", cursor: r.cursor, id: r.id });
      } else if (!(await this.postReceipt(r))) {
        return; // the server is not reachable: the next welcome (or fallback) tries again
      }
    }
  }

  /** One receipt over REST; true when the server answered for good (recorded or refused). */
  private async postReceipt(r: PendingReceipt): Promise<boolean> {
    if (!this.deviceId) return false;
    try {
      await this.o.postReceipt({ device: this.deviceId, stage: r.stage, cursor: r.cursor, ...(r.id ? { id: r.id } : {}) });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status < 400 || e.status >= 500 || e.isSessionLost || e.isLocked) return false;
    }
    await this.confirmed(r, r.stage);
    return true;
  }

  /** Rule 3: no welcomed socket — resync over REST (at most once per `welcomeTimeoutMs`), then send owed receipts. */
  private fallbackResync(): void {
    if (this.stopped || !this.leading) return;
    const now = this.o.now();
    if (now - this.lastFallbackAt < this.o.welcomeTimeoutMs) return;
    this.lastFallbackAt = now;
    void this.resync().then(() => {
      if (!this.welcomed && !this.flushingRest) {
        this.flushingRest = this.flushReceipts().finally(() => (this.flushingRest = null));
      }
    });
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
        if (e instanceof ApiError && e.isLocked) this.locked(true);
        else if (e instanceof ApiError && e.isSessionLost) this.authLost(true);
        // Network errors: the next attempt without a welcome resyncs again.
      } finally {
        this.resyncing = null;
      }
    })();
    return this.resyncing;
  }

  private authLost(tell: boolean): void {
    if (this.state.value === "auth_lost") return;
    if (tell && this.leading) this.o.tabs.post(this.lockKey, { kind: "auth_lost" } satisfies TabMessage);
    this.stop();
    this.state.set("auth_lost");
    this.o.onAuthLost();
  }

  private locked(tell: boolean): void {
    if (this.state.value === "locked") return;
    if (tell && this.leading) this.o.tabs.post(this.lockKey, { kind: "locked" } satisfies TabMessage);
    this.stop();
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

  /** Backoff delay for the current attempt (rule 5): exponential, capped, with "equal jitter". */
  nextDelay(): number {
    const outage = this.outageSince === null ? 0 : this.o.now() - this.outageSince;
    const cap = outage < this.o.longOutageMs ? Math.min(this.o.shortBackoffCapMs, this.o.maxBackoffMs) : this.o.maxBackoffMs;
    const exp = Math.min(cap, this.o.baseBackoffMs * 2 ** this.attempt);
    return Math.round(exp / 2 + this.o.random() * (exp / 2));
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    this.outageSince ??= this.o.now();
    const delay = this.nextDelay();
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped && this.leading && !this.ws) this.connect();
    }, delay);
  }

  private armHeartbeat(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    if (this.deadTimer) clearTimeout(this.deadTimer);
    this.pingTimer = setTimeout(() => this.sendFrame({ type: "ping" }), this.o.pingAfterMs);
    this.deadTimer = setTimeout(() => {
      // Nothing heard for too long: a phone that changed networks may keep a half-open socket
      // that never gets a close event. Drop it and reconnect.
      const ws = this.ws;
      this.socketLost();
      ws?.close(4000, "heartbeat timeout");
      if (this.stopped) return;
      this.setState("closed");
      this.scheduleReconnect();
    }, this.o.heartbeatTimeoutMs);
  }

  private clearTimers(): void {
    for (const t of [this.pingTimer, this.deadTimer, this.reconnectTimer, this.welcomeTimer]) if (t) clearTimeout(t);
    if (this.receiptTimer) clearInterval(this.receiptTimer);
    this.pingTimer = this.deadTimer = this.reconnectTimer = this.welcomeTimer = this.receiptTimer = null;
  }
}
