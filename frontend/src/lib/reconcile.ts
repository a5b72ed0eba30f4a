import type { ServerEncounter } from "./clinical";
import type { ServerNote } from "./conflict";
import { emptyAnswers, normalize, QUESTIONS, type Answers, type Risk } from "./cssrs";
import type { OutboxItem } from "./db";
import {
  FORMAT_SECTIONS,
  contactKey,
  emptyContact,
  emptyQueued,
  emptySafetyPlan,
  isoToLocalInput,
  ivcKey,
  newDraft,
  planKey,
  screenKey,
  upgradeDraft,
  type ContactDraft,
  type EncounterDraft,
  type IvcDraft,
  type NoteContent,
  type NoteFormat,
  type ReferralDraft,
  type SafetyPlanDraft,
} from "./drafts";

/**
 * Merges the server's encounter into this device's draft, once nothing of the draft waits in the
 * outbox (docs/frontend.md, "The merge rule").
 *
 * Every section is shown from the server unless this device holds an unsent edit of it. "Unsent edit"
 * is decided per section against `queued`, the value this device last sent or last took from the
 * server (the base): the draft differs from its base → keep mine (it is sent on the next save);
 * otherwise → take the server's and make it the new base. Lists (dispositions, referrals, addenda)
 * are the server's plus this device's unsent items. The note is the exception: a server text that is
 * neither mine nor my base is a conflict, shown side by side and never merged.
 *
 * Writes that landed are confirmed (revisions, signature); refused ones count as unsent edits, so the
 * next save sends them again after the person fixed them. A refused signature returns the note to
 * draft (the reasons stay on the screen from the outbox).
 */

export interface MergeResult {
  draft: EncounterDraft;
  conflict: ServerNote | null;
  /** The note's text was replaced by the server's over what this device showed. */
  adopted: boolean;
  /** Sections that changed on this device because the server had a newer version. */
  updated: string[];
}

function serverContent(note: { sections?: Record<string, string>; safety_precautions?: Record<string, boolean> }, format: NoteFormat): NoteContent {
  return { format, sections: { ...(note.sections ?? {}) }, safety_precautions: { ...(note.safety_precautions ?? {}) } };
}

function sameText(a: NoteContent, b: NoteContent): boolean {
  const keys = FORMAT_SECTIONS[a.format];
  const pre = (n: NoteContent) =>
    Object.keys(n.safety_precautions)
      .filter((k) => n.safety_precautions[k])
      .sort()
      .join();
  return keys.every((k) => (a.sections[k] ?? "") === (b.sections[k] ?? "")) && pre(a) === pre(b);
}

function hasText(n: NoteContent): boolean {
  return Object.values(n.sections).some((v) => v.trim() !== "") || Object.values(n.safety_precautions).some(Boolean);
}

function screenAnswers(s: Record<string, unknown>): Answers {
  const a = emptyAnswers();
  for (const q of QUESTIONS) a[q] = typeof s[q] === "boolean" ? (s[q] as boolean) : null;
  return normalize(a);
}

type ServerPlan = NonNullable<ServerEncounter["safety_plans"]>[number];
type ServerIvc = NonNullable<ServerEncounter["ivc"]>;
type ServerReferral = NonNullable<ServerEncounter["referrals"]>[number];

function planFromServer(p: ServerPlan): SafetyPlanDraft {
  return {
    ...emptySafetyPlan(),
    warning_signs: p.warning_signs ?? "",
    internal_coping: p.internal_coping ?? "",
    distraction_people_places: p.distraction_people_places ?? "",
    help_contacts: p.help_contacts ?? "",
    professionals_agencies: p.professionals_agencies ?? "",
    environment_safety: p.environment_safety ?? "",
    lethal_means_counselling_done: p.lethal_means_counselling_done === true,
  };
}

function ivcFromServer(i: ServerIvc): IvcDraft {
  return {
    pathway: i.pathway,
    petition_at: isoToLocalInput(i.petition_at),
    custody_order_at: isoToLocalInput(i.custody_order_at),
    custody_taken_at: isoToLocalInput(i.custody_taken_at),
    first_exam_at: isoToLocalInput(i.first_exam_at),
    outcome: i.outcome ?? "",
  };
}

function referralFromServer(r: ServerReferral): ReferralDraft {
  const out: ReferralDraft = {
    id: r.id,
    type: r.type ?? "",
    agency_id: r.agency?.id ?? null,
    agency_name: r.agency?.name ?? "",
    notes: r.notes ?? "",
    status: r.status,
    restricted: r.restricted,
  };
  if (r.agency?.phone) out.agency_phone = r.agency.phone;
  if (r.made_by) out.made_by = r.made_by;
  return out;
}

const bodyOf = (i: OutboxItem) => (i.body ?? {}) as Record<string, unknown>;

export function reconcile(draftIn: EncounterDraft, server: ServerEncounter | null, rejected: OutboxItem[]): MergeResult {
  const draft = upgradeDraft(draftIn);
  if (server === null) {
    // Nothing arrived (the encounter itself was refused): send everything again on the next save.
    return { draft: { ...draft, queued: { ...emptyQueued(), person: draft.queued.person } }, conflict: null, adopted: false, updated: [] };
  }
  const updated: string[] = [];
  const q = { ...draft.queued, encounter: true, person_linked: server.person?.id ?? null, encounter_revision: server.revision };
  let next: EncounterDraft = { ...draft, encounter_revision: server.revision };
  const refused = (test: (i: OutboxItem) => boolean) => rejected.filter(test);
  const enc = `/api/v1/clinical/encounters/${draft.id}/`;

  // --- person and contact
  if (server.person && draft.person?.id !== server.person.id) {
    // The server's encounter names a person (merged, or linked on another device): show that one.
    const p = server.person;
    next = { ...next, person: { id: p.id, name: `${p.first_name} ${p.last_name}`.trim(), date_of_birth: p.date_of_birth ?? null } };
    if (draft.person) updated.push("person");
  }
  if (server.person && typeof server.person.revision === "number") {
    const p = server.person;
    const theirs: ContactDraft = {
      phone: p.phone ?? "",
      preferred_contact: p.preferred_contact ?? "unstated",
      contact_consent: p.contact_consent ?? "unknown",
    };
    const contactRefused = refused((i) => i.method === "PATCH" && i.url.endsWith(`/persons/${p.id}/`)).length > 0;
    const base = contactRefused ? null : (q.contact ?? contactKey(emptyContact()));
    const mine = contactKey(next.contact);
    if (mine === base || mine === contactKey(theirs)) {
      if (mine !== contactKey(theirs)) updated.push("contact");
      next = { ...next, contact: theirs };
      q.contact = contactKey(theirs);
    } else {
      q.contact = base;
    }
    q.person_revision = p.revision;
    if (next.person) next = { ...next, person: { ...next.person, revision: p.revision } };
  }

  // --- the note
  let conflict: ServerNote | null = null;
  let adopted = false;
  const note = server.notes?.find((n) => n.id === draft.note_id);
  const signRefused = refused((i) => i.url.endsWith(`/notes/${draft.note_id}/sign/`) && i.last_status !== 409).length > 0;
  if (!note) {
    q.note = null;
    q.signed = false;
  } else {
    const fmt = (note.format in FORMAT_SECTIONS ? note.format : draft.note.format) as NoteFormat;
    const theirs = serverContent(note, fmt);
    const signed = note.status === "signed";
    if (!q.note && !hasText(draft.note)) {
      // Nothing of mine yet (a second device, or the note was written elsewhere): take the server's.
      next = { ...next, note: theirs };
      q.note = { ...theirs, revision: note.revision };
    } else if (q.note && sameText(theirs, q.note)) {
      q.note = { ...q.note, revision: note.revision };
    } else if (sameText(theirs, draft.note) || (q.note && sameText(draft.note, q.note))) {
      // Either the server already has my text, or I changed nothing since my last save: take the server's.
      if (!sameText(theirs, draft.note)) adopted = true;
      next = { ...next, note: theirs };
      q.note = { ...theirs, revision: note.revision };
    } else {
      conflict = { ...note, sections: theirs.sections, safety_precautions: theirs.safety_precautions };
    }
    if (!conflict) q.signed = signed;
    if (signed) next = { ...next, sign_requested: true };
    else if (signRefused) next = { ...next, sign_requested: false }; // back to draft: fix, then sign again
  }

  // --- C-SSRS (the latest screen is the current one)
  const lastScreen = server.screens?.[server.screens.length - 1];
  if (refused((i) => i.url.endsWith("/screens/")).length > 0) {
    q.cssrs = null;
  } else if (lastScreen) {
    const s = {
      cssrs: screenAnswers(lastScreen as unknown as Record<string, unknown>),
      override_risk: ((lastScreen.override_risk as string) || "") as Risk | "",
      override_reason: (lastScreen.override_reason as string) || "",
    };
    const mine = screenKey(next);
    const base = q.cssrs ?? screenKey({ cssrs: emptyAnswers(), override_risk: "", override_reason: "" });
    if (mine === base || mine === screenKey(s)) {
      if (mine !== screenKey(s)) updated.push("C-SSRS");
      next = { ...next, ...s };
      q.cssrs = screenKey(s);
    }
  }

  // --- safety plan (the newest plan made in this encounter)
  const plans = [...(server.safety_plans ?? [])].sort((a, b) => String(b.created_at ?? "").localeCompare(String(a.created_at ?? "")));
  if (refused((i) => i.url.endsWith("/safety-plans/")).length > 0) {
    q.safety_plan = null;
  } else if (plans[0]) {
    const theirs = planFromServer(plans[0]);
    const mine = planKey(next.safety_plan);
    if (mine === (q.safety_plan ?? planKey(emptySafetyPlan())) || mine === planKey(theirs)) {
      if (mine !== planKey(theirs)) updated.push("safety plan");
      next = { ...next, safety_plan: theirs };
      q.safety_plan = planKey(theirs);
    }
  }

  // --- dispositions: the recorded ones, plus mine not sent yet; a refused one is dropped (its reason is shown)
  const recorded: string[] = (server.dispositions ?? []).map((d) => d.code);
  const refusedCodes = new Set(refused((i) => i.url.endsWith("/dispositions/")).map((i) => String(bodyOf(i).code)));
  const unsentCodes = draft.dispositions.filter((c) => !draft.queued.dispositions.includes(c) && !recorded.includes(c) && !refusedCodes.has(c));
  if (recorded.some((c) => !draft.dispositions.includes(c))) updated.push("dispositions");
  next = { ...next, dispositions: [...recorded, ...unsentCodes] };
  q.dispositions = recorded;

  // --- referrals: the server's (with their notes), plus mine not on the server yet
  const refusedRefs = new Set(refused((i) => i.url.endsWith("/referrals/")).map((i) => String(bodyOf(i).id)));
  if (server.referrals) {
    const theirs = server.referrals.map(referralFromServer);
    const ids = new Set(theirs.map((r) => r.id));
    if (theirs.some((r) => !draft.referrals.some((x) => x.id === r.id))) updated.push("referrals");
    next = { ...next, referrals: [...theirs, ...draft.referrals.filter((r) => !ids.has(r.id))] };
    q.referrals = [...ids];
  } else {
    q.referrals = q.referrals.filter((id) => !refusedRefs.has(id));
  }

  // --- IVC
  const ivcRefused = refused((i) => i.url.endsWith("/ivc/")).length > 0;
  const serverIvc = server.ivc as ServerIvc | null | undefined;
  if (serverIvc && typeof serverIvc.revision === "number") {
    const theirs = ivcFromServer(serverIvc);
    const mine = ivcKey(next.ivc);
    const base = ivcRefused ? "" : (q.ivc?.json ?? null);
    if (mine === base || mine === ivcKey(theirs)) {
      if (mine !== ivcKey(theirs)) updated.push("IVC");
      next = { ...next, ivc: theirs };
      q.ivc = { revision: serverIvc.revision, json: ivcKey(theirs) ?? "" };
    } else {
      q.ivc = { revision: serverIvc.revision, json: base ?? "" };
    }
  } else {
    q.ivc = null;
  }

  // --- addenda: mine leave the device once the server has them
  const serverAddenda = new Set((note?.addenda ?? []).map((a) => a.id).filter((id): id is string => !!id));
  next = { ...next, addenda: next.addenda.filter((a) => !serverAddenda.has(a.id)) };
  q.addenda = (q.addenda ?? []).filter((id) => serverAddenda.has(id));

  // --- closed or open
  const serverClosed = !!server.closed_at;
  const closeRefused = refused((i) => i.method === "PATCH" && i.url === enc && "closed_at" in bodyOf(i)).length > 0;
  const mineClosed = next.closed_at !== null;
  if (closeRefused) {
    q.closed = serverClosed;
  } else if (mineClosed === (draft.queued.closed ?? false) || mineClosed === serverClosed) {
    next = { ...next, closed_at: server.closed_at ?? null };
    q.closed = serverClosed;
  }

  return { draft: { ...next, queued: q }, conflict, adopted, updated };
}

/** A draft for an encounter opened on a device that has none (a second phone, the navigator). */
export function draftFromServer(server: ServerEncounter, userId: number, newId: () => string): EncounterDraft {
  const mineFirst = [...(server.notes ?? [])].sort((a, b) => Number(b.author === userId) - Number(a.author === userId));
  const note = mineFirst.find((n) => n.status === "draft") ?? mineFirst[0];
  const d = newDraft({
    id: server.id,
    noteId: note?.id ?? newId(),
    userId,
    kind: (server.kind as EncounterDraft["kind"]) ?? "walk_in",
    incidentId: server.incident_id ?? null,
    teamId: server.team_id ?? null,
    officerId: server.officer_id ?? null,
  });
  d.started_at = server.started_at ?? d.started_at;
  if (note && note.format in FORMAT_SECTIONS) d.note = { ...d.note, format: note.format as NoteFormat };
  d.queued = { ...emptyQueued(), encounter: true, person: true };
  // Everything this device shows comes from the server: nothing is "mine" yet.
  return reconcile(d, server, []).draft;
}
