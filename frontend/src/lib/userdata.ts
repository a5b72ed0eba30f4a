import type { IDBPDatabase } from "idb";
import { appDB, type AppDB } from "./db";

/**
 * Per-user data kept on the device besides the outbox: the last processed event cursor and a
 * small last-seen cache (so the app can show the last known shift while offline). Both are
 * removed on sign-out and when the session is revoked: health information must not stay behind.
 */

type DBGetter = () => Promise<IDBPDatabase<AppDB>>;

export interface CursorStore {
  get(userId: number): Promise<number>;
  set(userId: number, cursor: number): Promise<void>;
}

export function cursorStore(db: DBGetter = appDB): CursorStore {
  return {
    async get(userId) {
      const row = await (await db()).get("cursors", userId);
      return row?.cursor ?? 0;
    },
    async set(userId, cursor) {
      await (await db()).put("cursors", { user_id: userId, cursor });
    },
  };
}

export async function cacheGet<T>(userId: number, key: string, db: DBGetter = appDB): Promise<T | undefined> {
  const row = await (await db()).get("cache", [userId, key]);
  return row?.value as T | undefined;
}

export async function cachePut(userId: number, key: string, value: unknown, db: DBGetter = appDB): Promise<void> {
  await (await db()).put("cache", { user_id: userId, key, value, saved_at: new Date().toISOString() });
}

/**
 * Deletes the user's cache and cursor (not the outbox: that is an explicit choice). `keep` spares
 * cache rows by key: after the 12-hour limit the person's unsent drafts stay for their next sign-in.
 */
export async function clearUserData(userId: number, db: DBGetter = appDB, keep?: (key: string) => boolean): Promise<void> {
  const conn = await db();
  const tx = conn.transaction(["cache", "cursors"], "readwrite");
  let cursor = await tx.objectStore("cache").index("by_user").openCursor(userId);
  while (cursor) {
    if (!keep?.(cursor.value.key)) await cursor.delete();
    cursor = await cursor.continue();
  }
  await tx.objectStore("cursors").delete(userId);
  await tx.done;
}

// The id of the last signed-in user, so an offline start can find its cache. Only an id.
const LAST_USER_KEY = "coresponse.lastUser";

export function rememberUser(userId: number | null): void {
  try {
    if (userId === null) localStorage.removeItem(LAST_USER_KEY);
    else localStorage.setItem(LAST_USER_KEY, String(userId));
  } catch {
    /* storage disabled: offline start just shows sign-in */
  }
}

export function lastUser(): number | null {
  try {
    const v = localStorage.getItem(LAST_USER_KEY);
    return v ? Number(v) : null;
  } catch {
    return null;
  }
}
