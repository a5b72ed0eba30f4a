import type { NoteOutput } from "../generated/api";
import type { OutboxItem } from "./db";
import { FORMAT_SECTIONS, type EncounterDraft, type NoteContent } from "./drafts";

/**
 * 409 conflicts on a note: the server has a newer revision than the one an edit was based on.
 * Nothing is merged: the person sees both versions and picks one.
 *
 * - keep mine: re-send my text based on the server's revision (and re-sign if I had signed);
 * - take the server's: my text is replaced by the server's, nothing is sent.
 * Either way the rejected items of that note are removed from the outbox.
 */

/** The note in a 409's `current` (the server's note_data: generated NoteOutput). */
export type ServerNote = NoteOutput;

export interface NoteConflict {
  /** The rejected outbox items of this note (the 409 and anything rejected after it for the note). */
  items: OutboxItem[];
  server: ServerNote;
  /** My version (what the rejected edit wanted). */
  mine: NoteContent;
  /** The server's note is signed: only "take the server's" is possible (then write an addendum). */
  serverSigned: boolean;
}

function isServerNote(v: unknown): v is ServerNote {
  return !!v && typeof v === "object" && typeof (v as ServerNote).revision === "number";
}

/** The conflict on this draft's note, if the outbox holds a rejected 409 for it. */
export function findNoteConflict(items: OutboxItem[], draft: EncounterDraft): NoteConflict | null {
  const mine = items.filter((i) => i.status === "rejected" && i.url.includes(`/notes/${draft.note_id}/`));
  const conflict = mine.find((i) => i.last_status === 409 && isServerNote(i.current));
  if (!conflict) return null;
  const server = conflict.current as ServerNote;
  return { items: mine, server, mine: draft.note, serverSigned: server.status === "signed" };
}

export type Choice = "mine" | "server";

/**
 * The draft after the person's choice. "mine": the queued state says the server holds its own
 * text at its revision, so the next save sends my text as an edit of that revision. "server":
 * my text becomes the server's; the next save sends nothing for the note.
 */
export function resolveNoteConflict(draft: EncounterDraft, conflict: NoteConflict, choice: Choice): EncounterDraft {
  const server = conflict.server;
  const serverContent: NoteContent = {
    format: draft.note.format,
    sections: { ...(server.sections ?? {}) },
    safety_precautions: { ...(server.safety_precautions ?? {}) },
  };
  if (choice === "mine") {
    if (conflict.serverSigned) throw new Error("The server's note is signed: it cannot be replaced.");
    return {
      ...draft,
      queued: { ...draft.queued, note: { ...serverContent, revision: server.revision }, signed: false },
      unsynced: true,
    };
  }
  const signed = server.status === "signed";
  return {
    ...draft,
    note: serverContent,
    sign_requested: signed,
    queued: { ...draft.queued, note: { ...serverContent, revision: server.revision }, signed },
    unsynced: false,
  };
}

/** Section-by-section comparison for the side-by-side view. */
export function compareSections(draft: EncounterDraft, server: ServerNote): { section: string; mine: string; server: string; differs: boolean }[] {
  return FORMAT_SECTIONS[draft.note.format].map((s) => {
    const mine = draft.note.sections[s] ?? "";
    const theirs = server.sections?.[s] ?? "";
    return { section: s, mine, server: theirs, differs: mine !== theirs };
  });
}
