import { Observable } from "./observable";

/**
 * Registry of forms with unsaved input. A form calls `markDirty(key, true)` on the first edit
 * and `markDirty(key, false)` when saved or discarded. The update prompt and sign-out check
 * `isDirty()` so nobody loses half-written work to a reload.
 */
const dirty = new Set<string>();
export const dirtyCount = new Observable<number>(0);

export function markDirty(key: string, isDirtyNow: boolean): void {
  if (isDirtyNow) dirty.add(key);
  else dirty.delete(key);
  dirtyCount.set(dirty.size);
}

export function isDirty(): boolean {
  return dirty.size > 0;
}

export function clearDirty(): void {
  dirty.clear();
  dirtyCount.set(0);
}
