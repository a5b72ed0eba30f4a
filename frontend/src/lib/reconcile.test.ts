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

/** An encounter with every section filled in on the server (as another device saved it). */
function everything(): ServerEncounter {
  return server(
    {
      sections: { subjective: "s", objective: "o", assessment: "a", plan: "p" },
      safety_precautions: { lethal_means_addressed: true, not_left_alone: true, supervisor_notified: true, safety_plan_reviewed: true },
      revision: 3,
      status: "signed",
      signed_by: 7,
      signed_by_name: "Claire Test",
      signed_at: "2026-01-05T16:00:00Z",
      addenda: [{ id: "ad-1", kind: "late_entry", reason: "Recalled", text: "Sister called", author: 7, author_name: "Claire Test" }],
    },
    {
      revision: 5,
      closed_at: "2026-01-05T17:00:00Z",
      person: { id: "p", first_name: "Robin", last_name: "Lee", date_of_birth: null, phone: "919-555-0142", preferred_contact: "text", contact_consent: "yes", revision: 2 },
      screens: [
        {
          id: 1,
          computed_risk: "high",
          final_risk: "high",
          rule_version: "cssrs-screen-2026.1",
          screened_by: 7,
          screened_at: "",
          q1_wish_dead: true,
          q2_active_thoughts: true,
          q3_method: true,
          q4_intent: true,
          q5_plan: false,
          q6_behavior: false,
          q6a_past_3_months: null,
          override_risk: "",
          override_reason: "",
        },
      ],
      safety_plans: [
        { id: "sp-old", warning_signs: "old", lethal_means_counselling_done: false, created_at: "2026-01-05T15:10:00Z" },
        { id: "sp-new", warning_signs: "Pacing", environment_safety: "Guns locked at brother's", lethal_means_counselling_done: true, created_at: "2026-01-05T15:20:00Z" },
      ] as NonNullable<ServerEncounter["safety_plans"]>,
      dispositions: [{ id: 1, code: "transport_ed", code_label: "Voluntary transport to ED" }],
      referrals: [
        { id: "r-1", status: "made", made_at: "2026-01-05T15:30:00Z", restricted: false, type: "peer_support", notes: "Tue 2 pm", agency: { id: 4, name: "Peer Network", phone: "919-555-0100" }, made_by: "Claire Test" },
      ],
      ivc: { pathway: "emergency_122c_262", petition_at: null, custody_order_at: null, custody_deadline: null, custody_taken_at: "2026-01-05T15:40:00Z", first_exam_at: null, outcome: "pending", revision: 2 } as NonNullable<ServerEncounter["ivc"]>,
    },
  );
}

describe("the merge rule: every section from the server unless this device has an unsent edit", () => {
  it("a second device shows every saved value, and has nothing to send", () => {
    const d = draftFromServer(everything(), 7, uuid);
    expect(d.note.sections).toMatchObject({ subjective: "s", plan: "p" });
    expect(d.note.safety_precautions.lethal_means_addressed).toBe(true);
    expect(d.queued.signed).toBe(true);
    expect(d.cssrs).toMatchObject({ q4_intent: true, q5_plan: false });
    expect(d.safety_plan).toMatchObject({ warning_signs: "Pacing", environment_safety: "Guns locked at brother's", lethal_means_counselling_done: true });
    expect(d.dispositions).toEqual(["transport_ed"]);
    expect(d.referrals).toEqual([
      { id: "r-1", type: "peer_support", agency_id: 4, agency_name: "Peer Network", agency_phone: "919-555-0100", notes: "Tue 2 pm", status: "made", restricted: false, made_by: "Claire Test" },
    ]);
    expect(d.ivc?.pathway).toBe("emergency_122c_262");
    expect(d.ivc?.custody_taken_at).not.toBe("");
    expect(d.contact).toEqual({ phone: "919-555-0142", preferred_contact: "text", contact_consent: "yes" });
    expect(d.person).toMatchObject({ id: "p", name: "Robin Lee", revision: 2 });
    expect(d.closed_at).toBe("2026-01-05T17:00:00Z");
    expect(planWrites(d, uuid).writes).toEqual([]);
  });

  it("keeps this device's unsent edit of a section and takes the server's for the others", () => {
    const d = draftFromServer(server({ sections: { subjective: "s" } }), 7, uuid);
    const edited = { ...d, safety_plan: { ...d.safety_plan, warning_signs: "mine, not sent" } };
    const r = reconcile(edited, everything(), []);
    expect(r.draft.safety_plan.warning_signs).toBe("mine, not sent");
    expect(r.draft.contact.phone).toBe("919-555-0142");
    expect(r.draft.dispositions).toEqual(["transport_ed"]);
    expect(r.updated).toEqual(expect.arrayContaining(["C-SSRS", "dispositions", "referrals", "IVC", "contact"]));
    expect(r.updated).not.toContain("safety plan");
    expect(planWrites(r.draft, uuid).writes.map((w) => w.label)).toEqual(["Safety plan"]);
  });

  it("a refused signature returns the note to draft: not signed, not requested, sign again after the fix", () => {
    const d = sent({ subjective: "a" }, true);
    expect(d.queued.signed).toBe(true);
    const r = reconcile(d, server({ sections: { subjective: "a" }, revision: 1 }), [rejected(`/api/v1/clinical/notes/${NOTE}/sign/`, { revision: 1 })]);
    expect(r.draft.queued.signed).toBe(false);
    expect(r.draft.sign_requested).toBe(false);
    expect(planWrites(r.draft, uuid).writes).toEqual([]);
  });

  it("a refused disposition leaves the draft (the server said no); recorded ones stay", () => {
    const d = { ...sent({}), dispositions: ["transport_ed", "resolved_on_scene"] };
    d.queued = { ...d.queued, dispositions: ["transport_ed", "resolved_on_scene"] };
    const r = reconcile(d, server({}, { dispositions: [{ id: 1, code: "transport_ed", code_label: "ED" }] }), [
      rejected(`/api/v1/clinical/encounters/${E}/dispositions/`, { code: "resolved_on_scene" }, 409),
    ]);
    expect(r.draft.dispositions).toEqual(["transport_ed"]);
  });

  it("addenda and the closing leave the device once the server has them", () => {
    const d = { ...sent({ subjective: "s" }, true), addenda: [{ id: "ad-1", kind: "late_entry" as const, reason: "Recalled", text: "Sister called", created_at: "" }], closed_at: "2026-01-05T17:00:00Z" };
    d.queued = planWrites(d, uuid).queued;
    const r = reconcile(d, everything(), []);
    expect(r.draft.addenda).toEqual([]);
    expect(r.draft.queued.closed).toBe(true);
    expect(planWrites(r.draft, uuid).writes).toEqual([]);
  });
});

describe("closing and contact writes", () => {
  it("close is an encounter edit based on the revision after the queued screen", () => {
    const d = draftFromServer(server({ sections: { subjective: "s" } }, { revision: 4 }), 7, uuid);
    d.cssrs = { ...d.cssrs, q1_wish_dead: false, q2_active_thoughts: false, q6_behavior: false };
    d.closed_at = "2026-01-05T17:00:00Z";
    const w = planWrites(d, uuid).writes;
    expect(w.map((x) => x.label)).toEqual(["C-SSRS screen", "Encounter closed"]);
    expect(w[1]?.body).toEqual({ revision: 5, closed_at: "2026-01-05T17:00:00Z" });
  });

  it("a contact edit of a known person is a person edit based on its revision", () => {
    const d = draftFromServer(everything(), 7, uuid);
    const w = planWrites({ ...d, contact: { ...d.contact, contact_consent: "no" } }, uuid).writes;
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ method: "PATCH", url: "/api/v1/clinical/persons/p/", body: { revision: 2, contact_consent: "no", phone: "919-555-0142" } });
  });
});
