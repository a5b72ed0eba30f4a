import type { ServerEncounter } from "./clinical";
import type { ServerNote } from "./conflict";
import { emptyAnswers, normalize, QUESTIONS, type Answers, type Risk } from "./cssrs";
import type { OutboxItem } from "./db";
import { FORMAT_SECTIONS, emptyQueued, newDraft, type EncounterDraft, type NoteContent, type NoteFormat } from "./drafts";

/**
 * Brings a draft's `queued` bookkeeping back to what the server holds, once nothing of the draft is
 * waiting in the outbox. Writes that landed are confirmed (revision, signed); rejected ones are
 * forgotten so the next save sends them again (after the person fixed them). A note the server
 * holds in a version that is neither mine nor the one I last sent is a conflict: it is returned,
 * never merged.
 */

function serverContent(note: { sections?: Record<string, string>; safety_precautions?: Record<string, boolean> }, format: NoteFormat): NoteContent {
  return { format, sections: { ...(note.sections ?? {}) }, safety_precautions: { ...(note.safety_precautions ?? {}) } };
}

function sameText(a: NoteContent, b: NoteContent): boolean {
  const keys = FORMAT_SECTIONS[a.format];
  const pre = (n: NoteContent) => Object.keys(n.safety_precautions).filter((k) => n.safety_precautions[k]).sort().join();
  return keys.every((k) => (a.sections[k] ?? "") === (b.sections[k] ?? "")) && pre(a) === pre(b);
}

function screenAnswers(s: Record<string, unknown>): Answers {
  const a = emptyAnswers();
  for (const q of QUESTIONS) a[q] = typeof s[q] === "boolean" ? (s[q] as boolean) : null;
  return normalize(a);
}

export function reconcile(
  draft: EncounterDraft,
  server: ServerEncounter | null,
  rejected: OutboxItem[],
): { draft: EncounterDraft; conflict: ServerNote | null; adopted: boolean } {
  if (server === null) {
    // Nothing arrived (the encounter itself was refused): send everything again on the next save.
    return { draft: { ...draft, queued: { ...emptyQueued(), person: draft.queued.person } }, conflict: null, adopted: false };
  }
  const q = { ...draft.queued, encounter: true, person_linked: server.person?.id ?? null };
  let next: EncounterDraft = { ...draft, encounter_revision: server.revision };
  if (server.person && draft.person?.id !== server.person.id) {
    // The server's encounter names a person (merged, or linked on another device): show that one.
    const p = server.person;
    next = { ...next, person: { id: p.id, name: `${p.first_name} ${p.last_name}`.trim(), date_of_birth: p.date_of_birth } };
  }
  let conflict: ServerNote | null = null;
  let adopted = false;
  const note = server.notes?.find((n) => n.id === draft.note_id);
  if (!note) {
    q.note = null;
    q.signed = false;
  } else {
    const theirs = serverContent(note, draft.note.format);
    const signed = note.status === "signed";
    if (q.note && sameText(theirs, q.note)) {
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
  }
  q.dispositions = (server.dispositions ?? []).map((d) => d.code);
  const rejectedIds = new Set(rejected.map((i) => (i.body as { id?: string } | null)?.id).filter(Boolean));
  q.referrals = q.referrals.filter((id) => !rejectedIds.has(id));
  if (rejected.some((i) => i.url.endsWith("/screens/"))) q.cssrs = null;
  if (rejected.some((i) => i.url.endsWith("/safety-plans/"))) q.safety_plan = null;
  const ivc = server.ivc as { revision?: number } | null | undefined;
  if (ivc && typeof ivc.revision === "number") {
    const failed = rejected.some((i) => i.url.endsWith("/ivc/"));
    q.ivc = { revision: ivc.revision, json: failed ? "" : (q.ivc?.json ?? "") };
  } else {
    q.ivc = null;
  }
  return { draft: { ...next, queued: q }, conflict, adopted };
}

/** A draft for an encounter opened on a device that has none (a second phone, the supervisor). */
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
  const q = emptyQueued();
  q.encounter = true;
  q.person = true;
  q.person_linked = server.person?.id ?? null;
  d.encounter_revision = server.revision;
  if (server.person) {
    d.person = { id: server.person.id, name: `${server.person.first_name} ${server.person.last_name}`.trim(), date_of_birth: server.person.date_of_birth };
  }
  if (note) {
    const fmt = (note.format in FORMAT_SECTIONS ? note.format : "soap") as NoteFormat;
    d.note = serverContent(note, fmt);
    q.note = { ...serverContent(note, fmt), revision: note.revision };
    q.signed = note.status === "signed";
    d.sign_requested = q.signed;
  }
  const last = server.screens?.[server.screens.length - 1];
  if (last) {
    d.cssrs = screenAnswers(last);
    d.override_risk = ((last.override_risk as string) || "") as Risk | "";
    d.override_reason = (last.override_reason as string) || "";
    q.cssrs = JSON.stringify([d.cssrs, d.override_risk, d.override_reason]);
  }
  d.dispositions = (server.dispositions ?? []).map((x) => x.code);
  q.dispositions = [...d.dispositions];
  const ivc = server.ivc as { revision?: number } | null | undefined;
  if (ivc && typeof ivc.revision === "number") q.ivc = { revision: ivc.revision, json: "" };
  d.queued = q;
  return d;
}
