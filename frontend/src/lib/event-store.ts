import { openDB, type DBSchema, type IDBPDatabase } from "idb";

/**
 * What the event client keeps on the device besides its cursor (docs/realtime.md, "The client's
 * rules"), in its own small IndexedDB database so it never needs a schema step in the app database:
 *
 * - the **ledger**: the ids of the events this device has handed to the app, shared by every tab of
 *   the browser. An id is claimed in one IndexedDB transaction (transactions on one store run one at
 *   a time, across tabs), so an event is handed to the app once, whichever path brought it (socket,
 *   REST resync), after a reload, a stream reset or a change of leading tab. Entries older than
 *   LEDGER_KEEP_MS are pruned.
 * - the **pending receipts**: delivered/seen receipts the server has not confirmed yet. They are sent
 *   again on the next welcomed socket or over `POST /api/v1/events/receipts/` until confirmed.
 *
 * Both hold event ids and cursors only (no payloads), and both survive sign-out: a receipt owed is
 * still owed, and a replay from cursor 0 after the next sign-in must not hand old events to the app.
 */

export const EVENTS_DB = "coresponse-events";
export const LEDGER_KEEP_MS = 14 * 24 * 3600 * 1000;

export type ReceiptStage = "delivered" | "seen";

export interface PendingReceipt {
  user_id: number;
  /** The event's id, or null when only its cursor is known (such a receipt goes over REST). */
  id: string | null;
  cursor: number;
  stage: ReceiptStage;
  created_at: number;
}

export interface EventLedger {
  /** Marks event `id` handled; true if this call did it (nobody on this device had). Atomic across tabs. */
  claim(userId: number, id: string, cursor: number): Promise<boolean>;
  /** The id of the handled event at `cursor`, if this device handled it. */
  idAt(userId: number, cursor: number): Promise<string | null>;
  /** Drops entries older than `keepMs`. */
  prune(keepMs?: number): Promise<void>;
}

export interface ReceiptStore {
  put(receipt: PendingReceipt): Promise<void>;
  list(userId: number): Promise<PendingReceipt[]>;
  remove(userId: number, receipt: { id: string | null; cursor: number; stage: ReceiptStage }): Promise<void>;
}

/** The key of a receipt: its event id, else its cursor. */
export function receiptKey(r: { id: string | null; cursor: number }): string {
  return r.id ?? `cursor:${r.cursor}`;
}

interface LedgerRow {
  user_id: number;
  id: string;
  cursor: number;
  at: number;
}

interface ReceiptRow extends PendingReceipt {
  key: string;
}

interface EventsDB extends DBSchema {
  handled: { key: [number, string]; value: LedgerRow; indexes: { by_cursor: [number, number]; by_at: number } };
  receipts: { key: [number, string, string]; value: ReceiptRow; indexes: { by_user: number } };
}

function openEventsDB(name: string): Promise<IDBPDatabase<EventsDB>> {
  return openDB<EventsDB>(name, 1, {
    upgrade(db) {
      const handled = db.createObjectStore("handled", { keyPath: ["user_id", "id"] });
      handled.createIndex("by_cursor", ["user_id", "cursor"]);
      handled.createIndex("by_at", "at");
      const receipts = db.createObjectStore("receipts", { keyPath: ["user_id", "key", "stage"] });
      receipts.createIndex("by_user", "user_id");
    },
  });
}

/** The ledger and the pending receipts in IndexedDB (`name`: one database per browser profile). */
export function eventStores(name: string = EVENTS_DB, now: () => number = Date.now): { ledger: EventLedger; receipts: ReceiptStore } {
  let db: Promise<IDBPDatabase<EventsDB>> | null = null;
  const conn = () => (db ??= openEventsDB(name));
  const ledger: EventLedger = {
    async claim(userId, id, cursor) {
      const tx = (await conn()).transaction("handled", "readwrite");
      const known = await tx.store.get([userId, id]);
      if (!known) await tx.store.put({ user_id: userId, id, cursor, at: now() });
      await tx.done;
      return !known;
    },
    async idAt(userId, cursor) {
      const row = await (await conn()).getFromIndex("handled", "by_cursor", [userId, cursor]);
      return row?.id ?? null;
    },
    async prune(keepMs = LEDGER_KEEP_MS) {
      const tx = (await conn()).transaction("handled", "readwrite");
      let cursor = await tx.store.index("by_at").openCursor(IDBKeyRange.upperBound(now() - keepMs));
      while (cursor) {
        await cursor.delete();
        cursor = await cursor.continue();
      }
      await tx.done;
    },
  };
  const receipts: ReceiptStore = {
    async put(r) {
      const tx = (await conn()).transaction("receipts", "readwrite");
      const key = receiptKey(r);
      // Keep the first one (its created_at decides when it is sent again).
      if (!(await tx.store.get([r.user_id, key, r.stage]))) await tx.store.put({ ...r, key });
      await tx.done;
    },
    async list(userId) {
      const rows = await (await conn()).getAllFromIndex("receipts", "by_user", userId);
      return rows.map(({ key: _key, ...r }) => r).sort((a, b) => a.cursor - b.cursor);
    },
    async remove(userId, r) {
      await (await conn()).delete("receipts", [userId, receiptKey(r), r.stage]);
    },
  };
  return { ledger, receipts };
}

/** The same in memory: one tab's life (tests, and a browser without IndexedDB). */
export function memoryEventStores(now: () => number = Date.now): { ledger: EventLedger; receipts: ReceiptStore } {
  const handled = new Map<string, LedgerRow>();
  const pending = new Map<string, PendingReceipt>();
  const k = (...parts: Array<string | number>) => parts.join("\u0000");
  return {
    ledger: {
      async claim(userId, id, cursor) {
        if (handled.has(k(userId, id))) return false;
        handled.set(k(userId, id), { user_id: userId, id, cursor, at: now() });
        return true;
      },
      async idAt(userId, cursor) {
        for (const row of handled.values()) if (row.user_id === userId && row.cursor === cursor) return row.id;
        return null;
      },
      async prune(keepMs = LEDGER_KEEP_MS) {
        for (const [key, row] of handled) if (row.at < now() - keepMs) handled.delete(key);
      },
    },
    receipts: {
      async put(r) {
        const key = k(r.user_id, receiptKey(r), r.stage);
        if (!pending.has(key)) pending.set(key, { ...r });
      },
      async list(userId) {
        return [...pending.values()].filter((r) => r.user_id === userId).sort((a, b) => a.cursor - b.cursor);
      },
      async remove(userId, r) {
        pending.delete(k(userId, receiptKey(r), r.stage));
      },
    },
  };
}
