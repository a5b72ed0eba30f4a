import type { EnqueueInput, Outbox } from "../../lib/outbox";

export type WriteResult =
  | { state: "sent" }
  /** Kept on the device; replays when there is signal again. */
  | { state: "queued"; reason: string | null }
  | { state: "rejected"; status: number | null; message: string; current: unknown };

/**
 * Queues a write in the outbox (Idempotency-Key), runs a replay round, and tells the screen what
 * happened to that item: sent, still queued (no signal), or rejected (e.g. 409 with the current
 * state). A rejected 409 is removed from the outbox because the screen shows it and reloads;
 * other rejections stay listed on the outbox screen too.
 */
export async function queueWrite(outbox: Outbox, input: EnqueueInput): Promise<WriteResult> {
  const item = await outbox.enqueue(input);
  await outbox.replay();
  const now = (await outbox.list()).find((i) => i.id === item.id);
  if (!now) return { state: "sent" };
  if (now.status === "rejected") {
    if (now.last_status === 409 && now.seq !== undefined) await outbox.discard(now.seq);
    return { state: "rejected", status: now.last_status ?? null, message: now.last_error ?? "Refused", current: now.current };
  }
  return { state: "queued", reason: now.last_error };
}
