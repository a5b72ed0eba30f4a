import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from "idb";

/**
 * One IndexedDB database for the field app.
 *
 * Schema changes are stepwise: each `if (oldVersion < N)` block moves the schema from N-1 to N and
 * runs once per device. A step may add stores or indexes; it must never delete a store that can
 * hold unsynced writes (the outbox), because a phone may upgrade while offline with work queued.
 */
export const DB_NAME = "coresponse";
export const DB_VERSION = 2;

export type OutboxStatus = "pending" | "rejected";

export interface OutboxItem {
  /** Auto-increment key: the replay order. */
  seq?: number;
  /** Client UUID, sent as the Idempotency-Key header so a retried write is applied once. */
  id: string;
  user_id: number;
  method: "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  body: unknown;
  created_at: string;
  status: OutboxStatus;
  last_error: string | null;
  /** HTTP status of the rejection, and the server's current state for a 409. */
  last_status?: number | null;
  current?: unknown;
  /** The server's field errors for a rejected write (shown next to the form). */
  field_errors?: Record<string, string[]>;
  /** Short human label ("Status: en route") for the pending/rejected list. */
  label?: string;
  /**
   * What the write is about (`outboxKey`): when a later write with the same key succeeds, an earlier
   * rejection of it is settled and removed. Default: method, url and the body's `id`.
   */
  key?: string;
}

export interface CursorRow {
  user_id: number;
  cursor: number;
}

export interface CacheRow {
  user_id: number;
  key: string;
  value: unknown;
  saved_at: string;
}

export interface AppDB extends DBSchema {
  outbox: {
    key: number;
    value: OutboxItem;
    indexes: { by_id: string; by_user: number };
  };
  cursors: {
    key: number;
    value: CursorRow;
  };
  cache: {
    key: [number, string];
    value: CacheRow;
    indexes: { by_user: number };
  };
}

export function upgradeSchema(
  db: IDBPDatabase<AppDB>,
  oldVersion: number,
  newVersion: number,
  tx: IDBPTransaction<AppDB, StoreNames<AppDB>[], "versionchange">,
): void {
  // The `contains` checks make each step safe if something created an empty database first.
  if (oldVersion < 1 && newVersion >= 1) {
    if (!db.objectStoreNames.contains("outbox")) {
      const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      outbox.createIndex("by_id", "id", { unique: true });
    }
    if (!db.objectStoreNames.contains("cursors")) db.createObjectStore("cursors", { keyPath: "user_id" });
  }
  if (oldVersion < 2 && newVersion >= 2) {
    // v2: per-user last-seen cache, and an index to replay/count one user's writes.
    // The outbox store is kept as it is (with its rows); only an index is added.
    if (!db.objectStoreNames.contains("outbox")) upgradeSchema(db, 0, 1, tx);
    if (!db.objectStoreNames.contains("cache")) {
      const cache = db.createObjectStore("cache", { keyPath: ["user_id", "key"] });
      cache.createIndex("by_user", "user_id");
    }
    const outbox = tx.objectStore("outbox");
    if (!outbox.indexNames.contains("by_user")) outbox.createIndex("by_user", "user_id");
  }
}

export function openAppDB(name: string = DB_NAME, version: number = DB_VERSION): Promise<IDBPDatabase<AppDB>> {
  return openDB<AppDB>(name, version, {
    upgrade(db, oldVersion, newVersion, tx) {
      upgradeSchema(db, oldVersion, newVersion ?? version, tx);
    },
    blocking(_current, _blocked, event) {
      // Another tab (a newer app version) wants to upgrade the schema: step aside so its upgrade
      // can run; this tab reopens lazily on its next access.
      (event.target as IDBDatabase).close();
      shared = null;
    },
  });
}

let shared: Promise<IDBPDatabase<AppDB>> | null = null;

/** The app-wide connection (opened lazily). */
export function appDB(): Promise<IDBPDatabase<AppDB>> {
  shared ??= openAppDB();
  return shared;
}
