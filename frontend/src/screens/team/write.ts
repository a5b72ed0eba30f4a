import type { OutboxItem } from "../../lib/db";
import type { EnqueueInput, Outbox } from "../../lib/outbox";

export type WriteResult = { id: string } & (
  | { state: "sent" }
  /** Kept on the device; replays when there is signal again. */
  | { state: "queued"; reason: string | null }
  | { state: "rejected"; status: number | null; message: string; current: unknown }
);

/**
 * Queues a write in the outbox (Idempotency-Key), runs a replay round, and tells the screen what
 * happened to that item: sent, still queued (no signal), or rejected (e.g. 409 with the current
 * state). Rejections are left in the outbox: `takeConflicts` hands 409s to the screen (also those
 * of writes that were queued offline and replayed later).
 */
export async function queueWrite(outbox: Outbox, input: EnqueueInput): Promise<WriteResult> {
  const item = await outbox.enqueue(input);
  await outbox.replay();
  const now = (await outbox.list()).find((i) => i.id === item.id);
  if (!now) return { id: item.id, state: "sent" };
  if (now.status === "rejected") {
    return { id: item.id, state: "rejected", status: now.last_status ?? null, message: now.last_error ?? "Refused", current: now.current };
  }
  return { id: item.id, state: "queued", reason: now.last_error };
}

/**
 * Rejected assignment writes that the server refused with 409 (someone else changed it first):
 * removed from the outbox and returned, so the screen shows the current state instead. Other
 * rejections stay for the outbox screen.
 */
export async function takeConflicts(outbox: Outbox, taken: Set<string>, urlPrefix = "/api/v1/assignments/"): Promise<OutboxItem[]> {
  const items = await outbox.list();
  const conflicts = items.filter((i) => i.status === "rejected" && i.last_status === 409 && i.url.startsWith(urlPrefix));
  for (const c of conflicts) taken.add(c.id); // before the discard: queueWrite may look right after it
  for (const c of conflicts) if (c.seq !== undefined) await outbox.discard(c.seq);
  return conflicts;
}
