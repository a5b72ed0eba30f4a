import { describe, expect, it } from "vitest";
import { eventStores } from "./event-store";

let n = 0;
const fresh = () => `coresponse-events-test-${++n}`;

describe("the device's event ledger and pending receipts (IndexedDB)", () => {
  it("claims an id once, across two connections racing (two tabs), and after a reopen (a reload)", async () => {
    const name = fresh();
    const tabA = eventStores(name);
    const tabB = eventStores(name);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? tabA : tabB).ledger.claim(7, "e1", 1)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await eventStores(name).ledger.claim(7, "e1", 1)).toBe(false);
    expect(await tabA.ledger.claim(8, "e1", 1)).toBe(true); // per user
    expect(await tabB.ledger.idAt(7, 1)).toBe("e1");
    expect(await tabB.ledger.idAt(7, 2)).toBeNull();
  });

  it("prunes entries older than the keep window", async () => {
    let now = 1_000_000;
    const { ledger } = eventStores(fresh(), () => now);
    await ledger.claim(7, "old", 1);
    now += 10_000;
    await ledger.claim(7, "new", 2);
    await ledger.prune(5_000);
    expect(await ledger.claim(7, "old", 1)).toBe(true); // forgotten
    expect(await ledger.claim(7, "new", 2)).toBe(false);
  });

  it("keeps pending receipts per user, stage and event until removed, across a reopen", async () => {
    const name = fresh();
    const { receipts } = eventStores(name);
    await receipts.put({ user_id: 7, id: "e2", cursor: 2, stage: "delivered", created_at: 5 });
    await receipts.put({ user_id: 7, id: "e2", cursor: 2, stage: "delivered", created_at: 9 }); // kept: the first
    await receipts.put({ user_id: 7, id: "e2", cursor: 2, stage: "seen", created_at: 6 });
    await receipts.put({ user_id: 7, id: null, cursor: 1, stage: "seen", created_at: 7 });
    await receipts.put({ user_id: 8, id: "x", cursor: 1, stage: "delivered", created_at: 8 });
    const again = eventStores(name).receipts;
    expect((await again.list(7)).map((r) => [r.cursor, r.id, r.stage, r.created_at])).toEqual([
      [1, null, "seen", 7],
      [2, "e2", "delivered", 5],
      [2, "e2", "seen", 6],
    ]);
    await again.remove(7, { id: "e2", cursor: 2, stage: "delivered" });
    await again.remove(7, { id: null, cursor: 1, stage: "seen" });
    expect((await receipts.list(7)).map((r) => r.stage)).toEqual(["seen"]);
    expect(await receipts.list(8)).toHaveLength(1);
  });
});
