import type { IDBPDatabase } from "idb";
import { computeRisk, emptyAnswers, isComplete, normalize, type Answers, type Risk } from "./cssrs";
import { appDB, type AppDB, type OutboxItem } from "./db";
import type { AddendumKind, ContactConsent, PreferredContact } from "../generated/clinical";
import { NOTE_FORMATS, NOTE_FORMAT_SECTIONS, SAFETY_PRECAUTIONS, type NoteFormat } from "../generated/notes";

/**
 * Encounter drafts on the device, and the writes a draft turns into.
 *
 * A draft is saved to IndexedDB on every change (the `cache` store, key `draft:<encounter UUID>`,
 * per user), so it is removed with the rest of the user's cached data at sign-out and when the
 * server ends the session. `queued` remembers what has already been handed to the outbox, so
 * "Save" queues only the difference, each edit carrying the revision it is based on.
 */

// Note formats, their sections and the safety precautions are the server's (generated: make contracts).
export type { NoteFormat } from "../generated/notes";
export { SAFETY_PRECAUTIONS } from "../generated/notes";
export const FORMAT_SECTIONS = NOTE_FORMAT_SECTIONS;
export const FORMAT_LABEL = Object.fromEntries(NOTE_FORMATS) as Record<NoteFormat, string>;

export const SAFETY_PLAN_PARTS = [
  ["warning_signs", "1. Warning signs"],
  ["internal_coping", "2. Internal coping strategies"],
  ["distraction_people_places", "3. People and social settings that provide distraction"],
  ["help_contacts", "4. People I can ask for help"],
  ["professionals_agencies", "5. Professionals or agencies I can contact during a crisis"],
  ["environment_safety", "6. Making the environment safe"],
] as const;

export type SafetyPlanPart = (typeof SAFETY_PLAN_PARTS)[number][0];
export type SafetyPlanDraft = Record<SafetyPlanPart, string> & { lethal_means_counselling_done: boolean };

export interface PersonRef {
  id: string;
  name: string;
  date_of_birth: string | null;
  /** The person's revision on the server when chosen (an edit of the contact is based on it). */
  revision?: number;
  /** Set for a person created on this device: POST persons/ first. */
  create?: { first_name: string; last_name: string; date_of_birth: string | null };
}

/** How to reach the person (care navigation). Sent with the new person, or as an edit of the person. */
export interface ContactDraft {
  phone: string;
  preferred_contact: PreferredContact;
  contact_consent: ContactConsent;
}

export interface ReferralDraft {
  id: string;
  type: string;
  agency_id: number | null;
  agency_name: string;
  notes: string;
  /** From the server (a referral made on another device, or confirmed). */
  agency_phone?: string;
  status?: string;
  made_by?: string;
  /** A substance-use referral this person may not read (42 CFR Part 2): only that it exists. */
  restricted?: boolean;
}

/** An addendum written on this device, until the server has it. */
export interface AddendumDraft {
  id: string;
  kind: AddendumKind;
  reason: string;
  text: string;
  created_at: string;
}

export interface IvcDraft {
  pathway: string;
  petition_at: string;
  custody_order_at: string;
  custody_taken_at: string;
  first_exam_at: string;
  outcome: string;
}

export interface NoteContent {
  format: NoteFormat;
  sections: Record<string, string>;
  safety_precautions: Record<string, boolean>;
}

export interface QueuedState {
  person: boolean;
  encounter: boolean;
  /** The person id the server's encounter has (as far as queued writes go). */
  person_linked?: string | null;
  /** Content of the last queued note write, and the revision the server will have after it. */
  note: (NoteContent & { revision: number }) | null;
  cssrs: string | null;
  safety_plan: string | null;
  dispositions: string[];
  referrals: string[];
  ivc: { revision: number; json: string } | null;
  signed: boolean;
  /** Key of the contact last queued or confirmed (`contactKey`); null: nothing yet (the base is empty). */
  contact?: string | null;
  /** The revisions the person and the encounter will have on the server after the queued writes. */
  person_revision?: number | null;
  encounter_revision?: number | null;
  /** Addenda handed to the outbox (ids). */
  addenda?: string[];
  /** Whether the queued writes leave the encounter closed. */
  closed?: boolean;
}

export interface EncounterDraft {
  id: string;
  user_id: number;
  kind: "incident" | "walk_in" | "follow_up";
  incident_id: number | null;
  team_id: number | null;
  officer_id: number | null;
  started_at: string;
  person: PersonRef | null;
  note_id: string;
  note: NoteContent;
  cssrs: Answers;
  override_risk: Risk | "";
  override_reason: string;
  safety_plan: SafetyPlanDraft;
  dispositions: string[];
  referrals: ReferralDraft[];
  ivc: IvcDraft | null;
  contact: ContactDraft;
  addenda: AddendumDraft[];
  /** When the person closed the encounter (null: open). Sent as `closed_at`. */
  closed_at: string | null;
  sign_requested: boolean;
  queued: QueuedState;
  /** The encounter's revision on the server when last read (for linking a person later). */
  encounter_revision?: number | null;
  /** Edits saved on the device but not yet handed to the outbox. */
  unsynced: boolean;
  updated_at: string;
}

export function emptySafetyPlan(): SafetyPlanDraft {
  return {
    warning_signs: "",
    internal_coping: "",
    distraction_people_places: "",
    help_contacts: "",
    professionals_agencies: "",
    environment_safety: "",
    lethal_means_counselling_done: false,
  };
}

export function emptyContact(): ContactDraft {
  return { phone: "", preferred_contact: "unstated", contact_consent: "unknown" };
}

export function emptyQueued(): QueuedState {
  return {
    person: false,
    encounter: false,
    note: null,
    cssrs: null,
    safety_plan: null,
    dispositions: [],
    referrals: [],
    ivc: null,
    signed: false,
    contact: null,
    person_revision: null,
    encounter_revision: null,
    addenda: [],
    closed: false,
  };
}

/** A draft saved by an older version of the app gets the fields added since (IndexedDB keeps old rows). */
export function upgradeDraft(d: EncounterDraft): EncounterDraft {
  return {
    ...d,
    contact: d.contact ?? emptyContact(),
    addenda: d.addenda ?? [],
    closed_at: d.closed_at ?? null,
    queued: { ...emptyQueued(), ...d.queued, addenda: d.queued.addenda ?? [], closed: d.queued.closed ?? false },
  };
}

export function newDraft(opts: {
  id: string;
  noteId: string;
  userId: number;
  kind?: EncounterDraft["kind"];
  incidentId?: number | null;
  teamId?: number | null;
  officerId?: number | null;
  now?: Date;
}): EncounterDraft {
  const now = opts.now ?? new Date();
  return {
    id: opts.id,
    user_id: opts.userId,
    kind: opts.kind ?? (opts.incidentId ? "incident" : "walk_in"),
    incident_id: opts.incidentId ?? null,
    team_id: opts.teamId ?? null,
    officer_id: opts.officerId ?? null,
    started_at: now.toISOString(),
    person: null,
    note_id: opts.noteId,
    note: { format: "soap", sections: {}, safety_precautions: {} },
    cssrs: emptyAnswers(),
    override_risk: "",
    override_reason: "",
    safety_plan: emptySafetyPlan(),
    dispositions: [],
    referrals: [],
    ivc: null,
    contact: emptyContact(),
    addenda: [],
    closed_at: null,
    sign_requested: false,
    queued: emptyQueued(),
    unsynced: false,
    updated_at: now.toISOString(),
  };
}

// ---- Writes ----------------------------------------------------------------------------------

export interface PlannedWrite {
  method: OutboxItem["method"];
  url: string;
  body: unknown;
  label: string;
  /** What the write is about, when method + url (+ body id) does not say it (outbox `key`). */
  key?: string;
}

const CLIN = "/api/v1/clinical";

function sectionsFor(note: NoteContent): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of FORMAT_SECTIONS[note.format]) out[s] = note.sections[s] ?? "";
  return out;
}

function sameNote(a: NoteContent, b: NoteContent): boolean {
  return JSON.stringify(sectionsFor(a)) === JSON.stringify(sectionsFor(b)) && JSON.stringify(precautions(a)) === JSON.stringify(precautions(b));
}

function precautions(note: NoteContent): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const k of SAFETY_PRECAUTIONS) out[k] = note.safety_precautions[k] === true;
  return out;
}

function hasSafetyPlan(p: SafetyPlanDraft): boolean {
  return p.lethal_means_counselling_done || SAFETY_PLAN_PARTS.some(([k]) => p[k].trim() !== "");
}

/** A value's identity for "did it change since it was last sent or read" (the merge rule's base). */
export function planKey(p: SafetyPlanDraft): string {
  return JSON.stringify([...SAFETY_PLAN_PARTS.map(([k]) => p[k]), p.lethal_means_counselling_done]);
}

export function screenKey(d: Pick<EncounterDraft, "cssrs" | "override_risk" | "override_reason">): string {
  return JSON.stringify([normalize(d.cssrs), d.override_risk, d.override_reason]);
}

export function contactKey(c: ContactDraft): string {
  return JSON.stringify([c.phone.trim(), c.preferred_contact, c.contact_consent]);
}

export function ivcKey(ivc: IvcDraft | null): string | null {
  return ivc ? JSON.stringify(ivcBody(ivc)) : null;
}

/** The C-SSRS risk this device would record, or null while the screen is incomplete. */
export function localRisk(d: Pick<EncounterDraft, "cssrs" | "override_risk">): Risk | null {
  const answers = normalize(d.cssrs);
  if (!isComplete(answers)) return null;
  return d.override_risk || computeRisk(answers);
}

/** ISO UTC from the server → "2026-11-27T14:05" for <input type=datetime-local> (this device's zone). */
export function isoToLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "2026-11-27T14:05" (device-local wall time from <input type=datetime-local>) → ISO UTC. */
export function localInputToIso(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function ivcBody(ivc: IvcDraft): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (ivc.pathway) body.pathway = ivc.pathway;
  if (ivc.outcome) body.outcome = ivc.outcome;
  for (const k of ["petition_at", "custody_order_at", "custody_taken_at", "first_exam_at"] as const) body[k] = localInputToIso(ivc[k]);
  return body;
}

/**
 * The writes that bring the server to the draft, in dependency order, and the `queued` state
 * after them. Pure: the caller stores both in one IndexedDB transaction.
 */
export function planWrites(
  draft: EncounterDraft,
  uuid: () => string = () => crypto.randomUUID(),
): { writes: PlannedWrite[]; queued: QueuedState } {
  const q: QueuedState = { ...emptyQueued(), ...structuredClone(draft.queued) };
  const writes: PlannedWrite[] = [];
  const enc = `${CLIN}/encounters/${draft.id}`;
  const contact = draft.contact ?? emptyContact();
  const contactChanged = contactKey(contact) !== (q.contact ?? contactKey(emptyContact()));
  // The encounter's revision the next encounter edit is based on (a screen or an edit bumps it).
  const encRev = () => q.encounter_revision ?? draft.encounter_revision ?? 1;

  if (draft.person?.create && !q.person) {
    const c = draft.person.create;
    const body: Record<string, unknown> = { id: draft.person.id, first_name: c.first_name, last_name: c.last_name };
    if (c.date_of_birth) body.date_of_birth = c.date_of_birth;
    if (contactChanged) Object.assign(body, { phone: contact.phone.trim(), preferred_contact: contact.preferred_contact, contact_consent: contact.contact_consent });
    writes.push({ method: "POST", url: `${CLIN}/persons/`, body, label: "New person" });
    q.person = true;
    q.person_revision = 1;
    q.contact = contactKey(contact);
  } else if (draft.person && contactChanged && (!draft.person.create || q.person)) {
    const revision = q.person_revision ?? draft.person.revision ?? 1;
    writes.push({
      method: "PATCH",
      url: `${CLIN}/persons/${draft.person.id}/`,
      body: { revision, phone: contact.phone.trim(), preferred_contact: contact.preferred_contact, contact_consent: contact.contact_consent },
      label: "Contact details",
    });
    q.person_revision = revision + 1;
    q.contact = contactKey(contact);
  }
  if (!q.encounter) {
    const body: Record<string, unknown> = { id: draft.id, kind: draft.kind, started_at: draft.started_at };
    if (draft.person) body.person_id = draft.person.id;
    if (draft.team_id !== null) body.team_id = draft.team_id;
    if (draft.officer_id !== null) body.officer_id = draft.officer_id;
    if (draft.incident_id !== null) body.incident_id = draft.incident_id;
    writes.push({ method: "POST", url: `${CLIN}/encounters/`, body, label: "Encounter started" });
    q.encounter = true;
    q.encounter_revision = 1;
    q.person_linked = draft.person?.id ?? null;
  } else if (draft.person && (q.person_linked ?? null) !== draft.person.id) {
    // The person became known after the encounter was saved: link it (based on the last read revision).
    writes.push({ method: "PATCH", url: `${enc}/`, body: { revision: encRev(), person_id: draft.person.id }, label: "Person linked", key: `PATCH ${enc}/ person` });
    q.encounter_revision = encRev() + 1;
    q.person_linked = draft.person.id;
  }
  if (!q.note) {
    writes.push({
      method: "POST",
      url: `${enc}/notes/`,
      body: { id: draft.note_id, format: draft.note.format, sections: sectionsFor(draft.note), safety_precautions: precautions(draft.note) },
      label: `Note (${FORMAT_LABEL[draft.note.format]})`,
    });
    q.note = { ...structuredClone(draft.note), revision: 1 };
  } else if (!q.signed && !sameNote(q.note, draft.note)) {
    writes.push({
      method: "PATCH",
      url: `${CLIN}/notes/${draft.note_id}/`,
      body: { revision: q.note.revision, sections: sectionsFor(draft.note), safety_precautions: precautions(draft.note) },
      label: "Note edited",
    });
    q.note = { ...structuredClone(draft.note), format: q.note.format, revision: q.note.revision + 1 };
  }
  const answers = normalize(draft.cssrs);
  const sKey = screenKey(draft);
  if (isComplete(answers) && sKey !== q.cssrs) {
    writes.push({
      method: "POST",
      url: `${enc}/screens/`,
      body: { ...answers, override_risk: draft.override_risk, override_reason: draft.override_reason },
      label: "C-SSRS screen",
    });
    q.cssrs = sKey;
    q.encounter_revision = encRev() + 1;
  }
  const pKey = planKey(draft.safety_plan);
  if (hasSafetyPlan(draft.safety_plan) && pKey !== q.safety_plan) {
    // Each version is a new plan (it supersedes the last); a later version clears a refused one.
    writes.push({ method: "POST", url: `${enc}/safety-plans/`, body: { id: uuid(), ...draft.safety_plan }, label: "Safety plan", key: `POST ${enc}/safety-plans/` });
    q.safety_plan = pKey;
  }
  for (const code of draft.dispositions) {
    if (q.dispositions.includes(code)) continue;
    writes.push({ method: "POST", url: `${enc}/dispositions/`, body: { code }, label: "Disposition", key: `POST ${enc}/dispositions/ ${code}` });
    q.dispositions = [...q.dispositions, code];
  }
  for (const r of draft.referrals) {
    if (q.referrals.includes(r.id) || r.restricted) continue;
    const body: Record<string, unknown> = { id: r.id, type: r.type, notes: r.notes };
    if (r.agency_id !== null) body.agency_id = r.agency_id;
    writes.push({ method: "POST", url: `/api/v1/encounters/${draft.id}/referrals/`, body, label: "Referral" });
    q.referrals = [...q.referrals, r.id];
  }
  if (draft.ivc) {
    const body = ivcBody(draft.ivc);
    const json = JSON.stringify(body);
    if (json !== q.ivc?.json) {
      writes.push({ method: "PUT", url: `${enc}/ivc/`, body: q.ivc ? { revision: q.ivc.revision, ...body } : body, label: "IVC times" });
      q.ivc = { revision: q.ivc ? q.ivc.revision + 1 : 1, json };
    }
  }
  if (draft.sign_requested && !q.signed && q.note) {
    writes.push({ method: "POST", url: `${CLIN}/notes/${draft.note_id}/sign/`, body: { revision: q.note.revision }, label: "Note signed" });
    q.note = { ...q.note, revision: q.note.revision + 1 };
    q.signed = true;
  }
  for (const a of draft.addenda ?? []) {
    if ((q.addenda ?? []).includes(a.id)) continue;
    writes.push({
      method: "POST",
      url: `${CLIN}/notes/${draft.note_id}/addenda/`,
      body: { id: a.id, kind: a.kind, reason: a.reason, text: a.text },
      label: "Addendum",
    });
    q.addenda = [...(q.addenda ?? []), a.id];
  }
  const closed = (draft.closed_at ?? null) !== null;
  if (closed !== (q.closed ?? false)) {
    writes.push({
      method: "PATCH",
      url: `${enc}/`,
      body: { revision: encRev(), closed_at: draft.closed_at ?? null },
      label: closed ? "Encounter closed" : "Encounter reopened",
      key: `PATCH ${enc}/ closed`,
    });
    q.encounter_revision = encRev() + 1;
    q.closed = closed;
  }
  return { writes, queued: q };
}

// ---- Storage ---------------------------------------------------------------------------------

type DBGetter = () => Promise<IDBPDatabase<AppDB>>;

export const DRAFT_PREFIX = "draft:";
export const SEEN_PREFIX = "encounter:";

export async function draftGet(userId: number, id: string, db: DBGetter = appDB): Promise<EncounterDraft | undefined> {
  const row = await (await db()).get("cache", [userId, DRAFT_PREFIX + id]);
  return row ? upgradeDraft(row.value as EncounterDraft) : undefined;
}

export async function draftPut(draft: EncounterDraft, db: DBGetter = appDB): Promise<void> {
  await (await db()).put("cache", { user_id: draft.user_id, key: DRAFT_PREFIX + draft.id, value: draft, saved_at: new Date().toISOString() });
}

export async function draftDelete(userId: number, id: string, db: DBGetter = appDB): Promise<void> {
  await (await db()).delete("cache", [userId, DRAFT_PREFIX + id]);
}

export async function draftList(userId: number, db: DBGetter = appDB): Promise<EncounterDraft[]> {
  const rows = await (await db()).getAllFromIndex("cache", "by_user", userId);
  return rows.filter((r) => r.key.startsWith(DRAFT_PREFIX)).map((r) => upgradeDraft(r.value as EncounterDraft));
}

/** Drafts with edits not yet queued: sign-out must ask before deleting them. */
export async function unsyncedDraftCount(userId: number, db: DBGetter = appDB): Promise<number> {
  return (await draftList(userId, db)).filter((d) => d.unsynced).length;
}

/** The last encounter data the server sent (for offline display); cleared with the user's cache. */
export async function seenPut(userId: number, id: string, value: unknown, db: DBGetter = appDB): Promise<void> {
  await (await db()).put("cache", { user_id: userId, key: SEEN_PREFIX + id, value, saved_at: new Date().toISOString() });
}

export async function seenGet<T>(userId: number, id: string, db: DBGetter = appDB): Promise<T | undefined> {
  const row = await (await db()).get("cache", [userId, SEEN_PREFIX + id]);
  return row?.value as T | undefined;
}

/**
 * Queues the draft's writes and saves the draft with its new `queued` state in ONE IndexedDB
 * transaction: either both happen or neither (no lost and no doubled writes after a crash).
 * The items have the outbox's shape; the caller then refreshes the outbox counts and replays.
 */
export async function queueDraft(
  draft: EncounterDraft,
  opts: { db?: DBGetter; uuid?: () => string; now?: () => Date; extraWrites?: PlannedWrite[]; discardSeqs?: number[] } = {},
): Promise<{ draft: EncounterDraft; queuedCount: number }> {
  const db = opts.db ?? appDB;
  const uuid = opts.uuid ?? (() => crypto.randomUUID());
  const now = opts.now ?? (() => new Date());
  const plan = planWrites(draft, uuid);
  const writes = [...(opts.extraWrites ?? []), ...plan.writes];
  const next: EncounterDraft = { ...draft, queued: plan.queued, unsynced: false };
  const conn = await db();
  const tx = conn.transaction(["outbox", "cache"], "readwrite");
  const outboxStore = tx.objectStore("outbox");
  for (const seq of opts.discardSeqs ?? []) await outboxStore.delete(seq);
  for (const w of writes) {
    const item: OutboxItem = {
      id: uuid(),
      user_id: draft.user_id,
      method: w.method,
      url: w.url,
      body: w.body,
      created_at: now().toISOString(),
      status: "pending",
      last_error: null,
      last_status: null,
      label: w.label,
    };
    if (w.key) item.key = w.key;
    await outboxStore.add(item);
  }
  await tx.objectStore("cache").put({ user_id: draft.user_id, key: DRAFT_PREFIX + draft.id, value: next, saved_at: now().toISOString() });
  await tx.done;
  return { draft: next, queuedCount: writes.length };
}

/** Outbox items (any status) that belong to this draft's encounter or note. */
export function itemsForDraft(items: OutboxItem[], draft: Pick<EncounterDraft, "id" | "note_id" | "referrals" | "person">): OutboxItem[] {
  return items.filter(
    (i) =>
      i.url.includes(draft.id) ||
      i.url.includes(draft.note_id) ||
      JSON.stringify(i.body ?? null).includes(draft.id) ||
      (draft.person?.create !== undefined && i.url.endsWith("/clinical/persons/") && JSON.stringify(i.body).includes(draft.person.id)) ||
      (draft.person !== null && i.url.endsWith(`/clinical/persons/${draft.person.id}/`)),
  );
}
