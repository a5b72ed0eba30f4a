import type { IDBPDatabase } from "idb";
import { NetworkError, send as defaultSend, toApiError, type SendOptions } from "./api";
import { appDB, type AppDB, type OutboxItem } from "./db";
import { Observable } from "./observable";

/**
 * The offline outbox: every write the field app makes goes here first, then to the server.
 *
 * Replay rules (see docs/frontend.md):
 * - strictly in queue order, one round at a time (single flight);
 * - no HTTP answer → keep the item and stop this round (later items wait behind it);
 * - 2xx → remove;
 * - 2xx also settles earlier rejected items with the same `outboxKey` (the change went through after all);
 * - 4xx → mark "rejected" with the server's message (the person must see it) and go on;
 *   except 401/403-session-lost or locked, 408, 425 and 429, which are not about the write: keep and stop;
 * - 5xx → keep and stop.
 * Each item's client UUID goes out as `Idempotency-Key`, so a write that reached the server but
 * whose answer was lost is applied once when replayed.
 */

export type WriteMethod = OutboxItem["method"];

export interface EnqueueInput {
  method: WriteMethod;
  url: string;
  body?: unknown;
  label?: string;
  /** What the write is about, when method + url + body id does not say it (see `outboxKey`). */
  key?: string;
}

/**
 * What a write is about: two writes with the same key are the same change tried again (a note's sign,
 * an edit of one record, one referral by its id). Once one succeeds, an earlier rejection with that key
 * is settled: the person no longer has anything to review.
 */
export function outboxKey(item: Pick<OutboxItem, "method" | "url" | "body" | "key">): string {
  if (item.key) return item.key;
  const id = (item.body as { id?: unknown } | null)?.id;
  return `${item.method} ${item.url}${typeof id === "string" ? ` ${id}` : ""}`;
}

export interface ReplayResult {
  sent: number;
  rejected: number;
  /** Why the round stopped early, if it did. */
  stopped: null | "network" | "server" | "session" | "throttled";
}

export interface OutboxDeps {
  db: () => Promise<IDBPDatabase<AppDB>>;
  send: (url: string, opts: SendOptions) => Promise<Response>;
  /** The signed-in user; writes are stored and replayed per user. */
  userId: () => number | null;
  /** `code`: the server's reason when it gave one (`session_expired`). */
  onSessionLost: (code: string | null) => void;
  /** 401 `session_locked`: the items stay and replay after unlock. */
  onLocked?: () => void;
  /** Ask the browser for a Background Sync (Chromium only); optional. */
  requestBackgroundSync?: () => void;
  now?: () => Date;
  uuid?: () => string;
  /** Start a replay right after queueing (the app does; tests drive replay themselves). */
  replayOnEnqueue?: boolean;
}

const TRANSIENT_4XX = new Set([408, 425, 429]);

export class Outbox {
  readonly pending = new Observable<number>(0);
  readonly rejected = new Observable<number>(0);
  /** Bumped on every change, for lists that show the items. */
  readonly version = new Observable<number>(0);

  private running: Promise<ReplayResult> | null = null;
  private again = false;
  private readonly deps: Required<Omit<OutboxDeps, "requestBackgroundSync" | "onLocked">> &
    Pick<OutboxDeps, "requestBackgroundSync" | "onLocked">;

  constructor(deps: OutboxDeps) {
    this.deps = {
      now: () => new Date(),
      uuid: () => crypto.randomUUID(),
      replayOnEnqueue: true,
      ...deps,
    };
  }

  async enqueue(input: EnqueueInput): Promise<OutboxItem> {
    const userId = this.deps.userId();
    if (userId === null) throw new Error("Cannot queue a write without a signed-in user");
    const item: OutboxItem = {
      id: this.deps.uuid(),
      user_id: userId,
      method: input.method,
      url: input.url,
      body: input.body ?? null,
      created_at: this.deps.now().toISOString(),
      status: "pending",
      last_error: null,
      last_status: null,
    };
    if (input.label) item.label = input.label;
    if (input.key) item.key = input.key;
    const db = await this.deps.db();
    item.seq = await db.add("outbox", item);
    await this.refreshCounts();
    this.deps.requestBackgroundSync?.();
    if (this.deps.replayOnEnqueue) void this.replay();
    return item;
  }

  /** The current user's items in replay order. */
  async list(): Promise<OutboxItem[]> {
    const userId = this.deps.userId();
    if (userId === null) return [];
    const db = await this.deps.db();
    return db.getAllFromIndex("outbox", "by_user", userId);
  }

  async refreshCounts(): Promise<void> {
    const items = await this.list();
    this.pending.set(items.filter((i) => i.status === "pending").length);
    this.rejected.set(items.filter((i) => i.status === "rejected").length);
    this.version.set(this.version.value + 1);
  }

  /** Removes one item (used to dismiss a rejected write after the person has seen it). */
  async discard(seq: number): Promise<void> {
    const db = await this.deps.db();
    await db.delete("outbox", seq);
    await this.refreshCounts();
  }

  /** Removes all of a user's items: only on an explicit "discard and sign out". */
  async discardAllForUser(userId: number): Promise<void> {
    const db = await this.deps.db();
    const tx = db.transaction("outbox", "readwrite");
    let cursor = await tx.store.index("by_user").openCursor(userId);
    while (cursor) {
      await cursor.delete();
      cursor = await cursor.continue();
    }
    await tx.done;
    await this.refreshCounts();
  }

  /** Runs one replay round; concurrent callers share it and a trailing round is scheduled. */
  replay(): Promise<ReplayResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        let result: ReplayResult;
        do {
          this.again = false;
          result = await this.replayOnce();
        } while (this.again && result.stopped === null);
        return result;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async replayOnce(): Promise<ReplayResult> {
    const result: ReplayResult = { sent: 0, rejected: 0, stopped: null };
    const userId = this.deps.userId();
    if (userId === null) return result;
    const db = await this.deps.db();
    // Re-read after each item: new writes queued during the round are picked up in order.
    for (;;) {
      const items = await db.getAllFromIndex("outbox", "by_user", userId);
      const next = items.find((i) => i.status === "pending");
      if (!next || next.seq === undefined) break;
      const outcome = await this.sendOne(db, next);
      if (outcome === "sent") result.sent++;
      else if (outcome === "rejected") result.rejected++;
      else {
        result.stopped = outcome;
        break;
      }
    }
    await this.refreshCounts();
    return result;
  }

  private async sendOne(
    db: IDBPDatabase<AppDB>,
    item: OutboxItem,
  ): Promise<"sent" | "rejected" | "network" | "server" | "session" | "throttled"> {
    const seq = item.seq as number;
    let res: Response;
    try {
      // Replay is automatic: it must not keep the session from locking (X-Background).
      const opts: SendOptions = { method: item.method, idempotencyKey: item.id, background: true };
      if (item.body !== null && item.body !== undefined) opts.body = item.body;
      res = await this.deps.send(item.url, opts);
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      await db.put("outbox", { ...item, last_error: e.message });
      return "network";
    }
    if (res.ok) {
      // One transaction: the write leaves, and so do earlier rejections of the same change.
      const key = outboxKey(item);
      const tx = db.transaction("outbox", "readwrite");
      await tx.store.delete(seq);
      for (const other of await tx.store.index("by_user").getAll(item.user_id)) {
        if (other.status === "rejected" && other.seq !== undefined && other.seq < seq && outboxKey(other) === key) await tx.store.delete(other.seq);
      }
      await tx.done;
      return "sent";
    }
    const err = await toApiError(res);
    if (res.status >= 500) {
      await db.put("outbox", { ...item, last_error: err.message, last_status: res.status });
      return "server";
    }
    if (err.isLocked) {
      if (this.deps.onLocked) this.deps.onLocked();
      else this.deps.onSessionLost(err.code);
      return "session";
    }
    if (err.isSessionLost) {
      this.deps.onSessionLost(err.code);
      return "session";
    }
    if (TRANSIENT_4XX.has(res.status)) {
      await db.put("outbox", { ...item, last_error: err.message, last_status: res.status });
      return "throttled";
    }
    await db.put("outbox", {
      ...item,
      status: "rejected",
      last_error: err.message,
      last_status: res.status,
      current: err.current,
      field_errors: err.fieldErrors,
    });
    return "rejected";
  }

  /**
   * Page-side replay triggers. Background Sync exists only in Chromium, so the page replays on
   * start, when the network returns, when the app comes to the foreground and on a timer.
   * Returns a function that removes them.
   */
  startTriggers(intervalMs = 15_000): () => void {
    const kick = () => void this.replay();
    const onVisible = () => {
      if (document.visibilityState === "visible") kick();
    };
    const onSwMessage = (e: MessageEvent) => {
      if ((e.data as { type?: string } | null)?.type === "outbox-replay") kick();
    };
    window.addEventListener("online", kick);
    document.addEventListener("visibilitychange", onVisible);
    navigator.serviceWorker?.addEventListener("message", onSwMessage);
    const timer = setInterval(kick, intervalMs);
    void this.refreshCounts().then(kick);
    return () => {
      window.removeEventListener("online", kick);
      document.removeEventListener("visibilitychange", onVisible);
      navigator.serviceWorker?.removeEventListener("message", onSwMessage);
      clearInterval(timer);
    };
  }
}

/** Asks the service worker for a Background Sync where the browser has it (Chromium). */
export function requestBackgroundSync(): void {
  if (!("serviceWorker" in navigator)) return;
  void navigator.serviceWorker.ready
    .then((reg) => {
      const sync = (reg as ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } }).sync;
      return sync?.register("outbox-replay");
    })
    .catch(() => {
      /* not supported or not permitted: the page triggers still replay */
    });
}

export function createOutbox(
  userId: () => number | null,
  onSessionLost: (code: string | null) => void,
  onLocked: () => void,
): Outbox {
  return new Outbox({ db: appDB, send: defaultSend, userId, onSessionLost, onLocked, requestBackgroundSync });
}
