import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { openAppDB } from "./db";
import { findNoteConflict, resolveNoteConflict } from "./conflict";
import { answer } from "./cssrs";
import type { OutboxItem } from "./db";
import { clearUserData } from "./userdata";
import { draftGet, draftList, draftPut, newDraft, planWrites, queueDraft, unsyncedDraftCount, type EncounterDraft } from "./drafts";

let n = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;
const E = "11111111-1111-4111-8111-111111111111";
const NOTE = "22222222-2222-4222-8222-222222222222";

function draft(): EncounterDraft {
  return newDraft({ id: E, noteId: NOTE, userId: 7, incidentId: 42, teamId: 3, officerId: 9, now: new Date("2026-11-27T15:00:00Z") });
}

function freshDb() {
  const name = `t-${Math.random()}`;
  const p = openAppDB(name);
  return () => p;
}

describe("planWrites", () => {
  it("creates the encounter and the note first, each with the client UUID", () => {
    const d = draft();
    d.note.sections = { subjective: "s" };
    const { writes, queued } = planWrites(d, uuid);
    expect(writes.map((w) => `${w.method} ${w.url}`)).toEqual([
      `POST /api/v1/clinical/encounters/`,
      `POST /api/v1/clinical/encounters/${E}/notes/`,
    ]);
    expect(writes[0]?.body).toMatchObject({ id: E, kind: "incident", incident_id: 42, team_id: 3, officer_id: 9 });
    expect(writes[1]?.body).toMatchObject({ id: NOTE, format: "soap", sections: { subjective: "s", objective: "", assessment: "", plan: "" } });
    expect(queued.note?.revision).toBe(1);
    // Nothing changed → nothing to send.
    expect(planWrites({ ...d, queued }, uuid).writes).toEqual([]);
  });

  it("edits carry the revision they are based on; sign uses the revision after the edits", () => {
    let d = draft();
    d = { ...d, queued: planWrites(d, uuid).queued };
    d.note = { ...d.note, sections: { subjective: "v2" } };
    const p1 = planWrites(d, uuid);
    expect(p1.writes).toHaveLength(1);
    expect(p1.writes[0]).toMatchObject({ method: "PATCH", url: `/api/v1/clinical/notes/${NOTE}/`, body: { revision: 1 } });
    d = { ...d, queued: p1.queued, note: { ...d.note, sections: { subjective: "v3" } }, sign_requested: true };
    const p2 = planWrites(d, uuid);
    expect(p2.writes.map((w) => [w.method, (w.body as { revision?: number }).revision])).toEqual([
      ["PATCH", 2],
      ["POST", 3],
    ]);
    expect(p2.writes[1]?.url).toBe(`/api/v1/clinical/notes/${NOTE}/sign/`);
    // After signing, later edits of the note are not sent (the note is locked).
    const p3 = planWrites({ ...d, queued: p2.queued, note: { ...d.note, sections: { subjective: "v4" } } }, uuid);
    expect(p3.writes).toEqual([]);
  });

  it("queues a person created on the device, the screen when complete, plan, dispositions, referrals, IVC in order", () => {
    const d = draft();
    d.person = { id: "p-1", name: "Sam Doe", date_of_birth: null, create: { first_name: "Sam", last_name: "Doe", date_of_birth: null } };
    let a = d.cssrs;
    a = answer(a, "q1_wish_dead", true);
    a = answer(a, "q2_active_thoughts", false);
    d.cssrs = a;
    expect(planWrites(d, uuid).writes.some((w) => w.url.endsWith("/screens/"))).toBe(false); // q6 unanswered
    d.cssrs = answer(a, "q6_behavior", false);
    d.safety_plan = { ...d.safety_plan, warning_signs: "pacing" };
    d.dispositions = ["resolved_with_referral"];
    d.referrals = [{ id: "r-1", type: "peer_support", agency_id: 5, agency_name: "Peer", notes: "" }];
    d.ivc = { pathway: "petition_122c_261", petition_at: "", custody_order_at: "", custody_taken_at: "", first_exam_at: "", outcome: "" };
    const { writes, queued } = planWrites(d, uuid);
    expect(writes.map((w) => w.label)).toEqual(["New person", "Encounter started", "Note (SOAP)", "C-SSRS screen", "Safety plan", "Disposition", "Referral", "IVC times"]);
    const screen = writes[3]?.body as Record<string, unknown>;
    expect(screen).toMatchObject({ q1_wish_dead: true, q2_active_thoughts: false, q3_method: null, q6_behavior: false, q6a_past_3_months: null });
    expect(writes[6]).toMatchObject({ url: `/api/v1/encounters/${E}/referrals/`, body: { id: "r-1", type: "peer_support", agency_id: 5 } });
    expect(writes[7]?.body).not.toHaveProperty("revision");
    // The IVC record's next edit is based on revision 1; a second referral is sent alone.
    const d2 = { ...d, queued, ivc: { ...d.ivc, outcome: "pending" }, referrals: [...d.referrals, { id: "r-2", type: "housing", agency_id: null, agency_name: "", notes: "x" }] };
    const next = planWrites(d2, uuid).writes;
    expect(next.map((w) => w.label)).toEqual(["Referral", "IVC times"]);
    expect(next[1]?.body).toMatchObject({ revision: 1, outcome: "pending" });
  });
});

describe("draft store", () => {
  it("saves per user, counts unsynced drafts, and is wiped with the user's data", async () => {
    const db = freshDb();
    const d = { ...draft(), unsynced: true };
    await draftPut(d, db);
    await draftPut({ ...draft(), id: "other", user_id: 8 }, db);
    expect((await draftGet(7, E, db))?.id).toBe(E);
    expect(await draftGet(8, E, db)).toBeUndefined();
    expect(await unsyncedDraftCount(7, db)).toBe(1);
    await clearUserData(7, db);
    expect(await draftList(7, db)).toEqual([]);
    expect(await draftList(8, db)).toHaveLength(1);
  });

  it("queues the writes and the draft's new state in one transaction", async () => {
    const db = freshDb();
    const d = { ...draft(), unsynced: true };
    const { draft: saved, queuedCount } = await queueDraft(d, { db, uuid });
    expect(queuedCount).toBe(2);
    expect(saved.unsynced).toBe(false);
    const conn = await db();
    const items = await conn.getAll("outbox");
    expect(items.map((i) => i.label)).toEqual(["Encounter started", "Note (SOAP)"]);
    expect(new Set(items.map((i) => i.id)).size).toBe(2);
    expect((await draftGet(7, E, db))?.queued.note?.revision).toBe(1);
    // A second save queues nothing more.
    expect((await queueDraft(saved, { db, uuid })).queuedCount).toBe(0);
  });
});

describe("conflict resolution", () => {
  function conflicted(): { d: EncounterDraft; items: OutboxItem[] } {
    let d = draft();
    d = { ...d, queued: planWrites(d, uuid).queued };
    d.note = { ...d.note, sections: { subjective: "MINE" } };
    const items: OutboxItem[] = [
      {
        seq: 5, id: "x", user_id: 7, method: "PATCH", url: `/api/v1/clinical/notes/${NOTE}/`, body: {}, created_at: "", status: "rejected",
        last_error: "revision mismatch", last_status: 409,
        current: { id: NOTE, status: "draft", revision: 2, sections: { subjective: "THEIRS", objective: "", assessment: "", plan: "" }, safety_precautions: {} },
      },
      { seq: 6, id: "y", user_id: 7, method: "POST", url: `/api/v1/clinical/notes/${NOTE}/sign/`, body: {}, created_at: "", status: "rejected", last_error: "x", last_status: 409, current: { revision: 2, status: "draft" } },
      { seq: 7, id: "z", user_id: 7, method: "POST", url: "/api/v1/other/", body: {}, created_at: "", status: "rejected", last_error: "x", last_status: 400 },
    ];
    d.queued = { ...d.queued, note: { ...d.note, revision: 2 }, signed: true };
    d.sign_requested = true;
    return { d, items };
  }

  it("finds the 409 of this note with the server's version, and no conflict otherwise", () => {
    const { d, items } = conflicted();
    const c = findNoteConflict(items, d);
    expect(c?.server.sections?.subjective).toBe("THEIRS");
    expect(c?.items.map((i) => i.seq)).toEqual([5, 6]);
    expect(findNoteConflict(items.slice(2), d)).toBeNull();
  });

  it("keep mine: re-sends my text based on the server's revision, and re-signs", () => {
    const { d, items } = conflicted();
    const c = findNoteConflict(items, d)!;
    const resolved = resolveNoteConflict(d, c, "mine");
    const { writes } = planWrites(resolved, uuid);
    expect(writes.map((w) => [w.method, w.url.split("/").slice(-2).join("/"), (w.body as { revision: number }).revision])).toEqual([
      ["PATCH", `${NOTE}/`, 2],
      ["POST", "sign/", 3],
    ]);
    expect((writes[0]?.body as { sections: Record<string, string> }).sections.subjective).toBe("MINE");
  });

  it("take the server's: my text is replaced and nothing is sent", () => {
    const { d, items } = conflicted();
    const resolved = resolveNoteConflict(d, findNoteConflict(items, d)!, "server");
    expect(resolved.note.sections.subjective).toBe("THEIRS");
    expect(resolved.sign_requested).toBe(false);
    expect(planWrites(resolved, uuid).writes).toEqual([]);
  });

  it("a note signed on the server cannot be overwritten with mine", () => {
    const { d, items } = conflicted();
    (items[0]!.current as { status: string }).status = "signed";
    const c = findNoteConflict(items, d)!;
    expect(c.serverSigned).toBe(true);
    expect(() => resolveNoteConflict(d, c, "mine")).toThrow(/signed/);
  });
});

describe("a person known only after the encounter was saved", () => {
  it("is linked with a PATCH based on the encounter revision last read, before referrals", () => {
    let d = draft();
    // As after a read of the server's encounter (reconcile): revision 3 (say, two screens since).
    d = { ...d, queued: { ...planWrites(d, uuid).queued, encounter_revision: 3 }, encounter_revision: 3 };
    expect(d.queued.person_linked).toBeNull();
    d.person = { id: "p-9", name: "Lee Late", date_of_birth: null, create: { first_name: "Lee", last_name: "Late", date_of_birth: null } };
    d.referrals = [{ id: "r-9", type: "housing", agency_id: null, agency_name: "", notes: "" }];
    const { writes, queued } = planWrites(d, uuid);
    expect(writes.map((w) => `${w.method} ${w.label}`)).toEqual(["POST New person", "PATCH Person linked", "POST Referral"]);
    expect(writes[1]).toMatchObject({ url: `/api/v1/clinical/encounters/${E}/`, body: { revision: 3, person_id: "p-9" } });
    expect(planWrites({ ...d, queued }, uuid).writes).toEqual([]);
  });
});
