import { describe, expect, it } from "vitest";
import type { ServerEncounter } from "./clinical";
import type { OutboxItem } from "./db";
import { newDraft, planWrites, type EncounterDraft } from "./drafts";
import { draftFromServer, reconcile } from "./reconcile";

const E = "11111111-1111-4111-8111-111111111111";
const NOTE = "22222222-2222-4222-8222-222222222222";
let n = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;

function sent(sections: Record<string, string>, sign = false): EncounterDraft {
  let d = newDraft({ id: E, noteId: NOTE, userId: 7 });
  d.note.sections = sections;
  d.sign_requested = sign;
  d = { ...d, queued: planWrites(d, uuid).queued };
  return d;
}

function server(note: Partial<NonNullable<ServerEncounter["notes"]>[number]> | null, extra: Partial<ServerEncounter> = {}): ServerEncounter {
  return {
    id: E,
    revision: 1,
    notes: note
      ? [
          {
            id: NOTE,
            encounter_id: E,
            format: "soap",
            status: "draft",
            revision: 1,
            author: 7,
            author_name: "Claire Test",
            signed_by_name: null,
            cosigned_by_name: null,
            created_at: "2026-01-05T15:00:00Z",
            updated_at: "2026-01-05T15:00:00Z",
            signed_by: null,
            signed_at: null,
            content_hash: "",
            cosigned_by: null,
            cosigned_at: null,
            sections: {},
            safety_precautions: {},
            ...note,
          },
        ]
      : [],
    dispositions: [],
    ...extra,
  };
}

const rejected = (url: string, body: unknown, status = 400): OutboxItem => ({
  id: uuid(), user_id: 7, method: "POST", url, body, created_at: "", status: "rejected", last_error: "no", last_status: status,
});

describe("reconcile", () => {
  it("confirms a landed write: the revision and the signature come from the server", () => {
    const d = sent({ subjective: "a" }, true);
    const r = reconcile(d, server({ sections: { subjective: "a" }, revision: 2, status: "signed" }), []);
    expect(r.conflict).toBeNull();
    expect(r.draft.queued.note?.revision).toBe(2);
    expect(r.draft.queued.signed).toBe(true);
  });

  it("a refused signature is forgotten, so signing again re-sends it on the server's revision", () => {
    const d = sent({ subjective: "a" }, true);
    const r = reconcile(d, server({ sections: { subjective: "a" }, revision: 1 }), [rejected(`/api/v1/clinical/notes/${NOTE}/sign/`, { revision: 1 })]);
    expect(r.draft.queued.signed).toBe(false);
    const again = planWrites({ ...r.draft, sign_requested: true }, uuid).writes;
    expect(again.map((w) => [w.url.endsWith("/sign/"), (w.body as { revision: number }).revision])).toEqual([[true, 1]]);
  });

  it("a server version that is neither mine nor my last sent one is a conflict, never adopted over my edits", () => {
    const d = { ...sent({ subjective: "sent" }), note: { format: "soap" as const, sections: { subjective: "my newer edit" }, safety_precautions: {} } };
    const r = reconcile(d, server({ sections: { subjective: "theirs" }, revision: 2 }), []);
    expect(r.conflict?.sections?.subjective).toBe("theirs");
    expect(r.draft.note.sections.subjective).toBe("my newer edit");
    expect(r.draft.queued.note?.revision).toBe(1); // unchanged: the next save is still refused until the person chooses
  });

  it("with no local edits since the last save, the server's newer text is taken (and said so)", () => {
    const d = sent({ subjective: "sent" });
    const r = reconcile(d, server({ sections: { subjective: "theirs" }, revision: 2 }), []);
    expect(r.conflict).toBeNull();
    expect(r.adopted).toBe(true);
    expect(r.draft.note.sections.subjective).toBe("theirs");
    expect(planWrites(r.draft, uuid).writes).toEqual([]);
  });

  it("refused referrals, screens and dispositions are sent again next time; recorded dispositions are not", () => {
    const d = sent({});
    d.queued = { ...d.queued, referrals: ["r-1", "r-2"], cssrs: "x", dispositions: ["arrest", "citation"] };
    const r = reconcile(d, server({}, { dispositions: [{ id: 1, code: "arrest", code_label: "Arrest" }] }), [
      rejected(`/api/v1/encounters/${E}/referrals/`, { id: "r-2" }),
      rejected(`/api/v1/clinical/encounters/${E}/screens/`, {}),
    ]);
    expect(r.draft.queued.referrals).toEqual(["r-1"]);
    expect(r.draft.queued.cssrs).toBeNull();
    expect(r.draft.queued.dispositions).toEqual(["arrest"]);
  });

  it("an encounter the server does not have (its creation was refused) is sent again in full", () => {
    const r = reconcile(sent({ subjective: "a" }), null, [rejected("/api/v1/clinical/encounters/", { id: E })]);
    expect(planWrites(r.draft, uuid).writes.map((w) => w.label)).toEqual(["Encounter started", "Note (SOAP)"]);
  });
});

describe("draftFromServer", () => {
  it("opens an encounter on a second device with nothing to send", () => {
    const s = server(
      { sections: { subjective: "x", objective: "y" }, revision: 3 },
      {
        kind: "incident",
        incident_id: 4,
        person: { id: "p", first_name: "A", last_name: "B", date_of_birth: null },
        screens: [
          {
            id: 1,
            computed_risk: "low",
            final_risk: "low",
            rule_version: "cssrs-screen-2026.1",
            screened_by: 7,
            screened_at: "",
            q1_wish_dead: true,
            q2_active_thoughts: false,
            q3_method: null,
            q4_intent: null,
            q5_plan: null,
            q6_behavior: false,
            q6a_past_3_months: null,
            override_risk: "",
            override_reason: "",
          },
        ],
        dispositions: [{ id: 1, code: "arrest", code_label: "Arrest" }],
      },
    );
    const d = draftFromServer(s, 7, uuid);
    expect(d.note_id).toBe(NOTE);
    expect(d.note.sections.subjective).toBe("x");
    expect(d.queued.note?.revision).toBe(3);
    expect(d.cssrs.q1_wish_dead).toBe(true);
    expect(d.person?.name).toBe("A B");
    expect(planWrites(d, uuid).writes).toEqual([]);
    // An edit is sent based on the server's revision.
    const w = planWrites({ ...d, note: { ...d.note, sections: { ...d.note.sections, plan: "p" } } }, uuid).writes;
    expect(w).toHaveLength(1);
    expect(w[0]?.body).toMatchObject({ revision: 3 });
  });
});
