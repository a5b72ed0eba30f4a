import { openDB, type IDBPDatabase } from "idb";

/**
 * A persistent device id per user and browser (docs/realtime.md: the `device` of the socket
 * hello, the receipts and the push subscription). Kept in its own small IndexedDB database so it
 * never needs a schema step in the app database, and it survives sign-out (the server knows the
 * device; an admin can revoke it). One id per user: the server refuses someone else's device id.
 */

const DEVICE_DB = "coresponse-device";

interface DeviceRow {
  user_id: number;
  device: string;
  created_at: string;
}

let dbPromise: Promise<IDBPDatabase> | null = null;

function deviceDB(): Promise<IDBPDatabase> {
  dbPromise ??= openDB(DEVICE_DB, 1, {
    upgrade(db) {
      if (!db.objectStoreNames.contains("devices")) db.createObjectStore("devices", { keyPath: "user_id" });
    },
  });
  return dbPromise;
}

const memory = new Map<number, string>();

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** The device UUID of `userId` on this browser, created once and kept. */
export async function deviceId(userId: number, uuid: () => string = () => crypto.randomUUID()): Promise<string> {
  const known = memory.get(userId);
  if (known) return known;
  try {
    const db = await deviceDB();
    const tx = db.transaction("devices", "readwrite");
    const row = (await tx.store.get(userId)) as DeviceRow | undefined;
    let device = row?.device;
    if (!isUuid(device)) {
      device = uuid();
      await tx.store.put({ user_id: userId, device, created_at: new Date().toISOString() } satisfies DeviceRow);
    }
    await tx.done;
    memory.set(userId, device);
    return device;
  } catch {
    // IndexedDB unavailable (private mode on some browsers): one id for this page's lifetime.
    const device = uuid();
    memory.set(userId, device);
    return device;
  }
}

/** For tests: forget the in-memory copy (the IndexedDB row stays). */
export function forgetDeviceCache(): void {
  memory.clear();
  dbPromise = null;
}
