import { queueDraft, type EncounterDraft, type PlannedWrite } from "../../lib/drafts";
import { requestBackgroundSync } from "../../lib/outbox";
import { outbox } from "../../lib/session";

/** Hands the draft's changes to the outbox (one IndexedDB transaction) and starts sending. */
export async function sendDraft(draft: EncounterDraft, opts: { discardSeqs?: number[]; extraWrites?: PlannedWrite[] } = {}): Promise<EncounterDraft> {
  const { draft: next, queuedCount } = await queueDraft(draft, opts);
  await outbox.refreshCounts();
  if (queuedCount > 0) {
    requestBackgroundSync();
    void outbox.replay();
  }
  return next;
}
