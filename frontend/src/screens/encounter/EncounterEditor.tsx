import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { PROMPT_LABELS } from "../../generated/clinical";
import { SAFETY_PRECAUTION_LABELS, SECTION_LABELS } from "../../generated/notes";
import { ApiError, NetworkError, type Me } from "../../lib/api";
import { clinicalApi, type ServerEncounter } from "../../lib/clinical";
import { findNoteConflict, resolveNoteConflict, type NoteConflict, type ServerNote } from "../../lib/conflict";
import type { OutboxItem } from "../../lib/db";
import { markDirty } from "../../lib/dirty";
import {
  FORMAT_LABEL,
  FORMAT_SECTIONS,
  SAFETY_PLAN_PARTS,
  SAFETY_PRECAUTIONS,
  draftGet,
  draftPut,
  itemsForDraft,
  localRisk,
  planWrites,
  seenGet,
  seenPut,
  type EncounterDraft,
  type NoteFormat,
} from "../../lib/drafts";
import { isEventType } from "../../lib/events";
import { signMissing } from "../../lib/readiness";
import { draftFromServer, reconcile } from "../../lib/reconcile";
import { onServerEvent, online, outbox } from "../../lib/session";
import { formatDayTime } from "../../lib/time";
import { useObservable } from "../../ui/hooks";
import { ConflictView } from "./ConflictView";
import { CssrsForm } from "./Cssrs";
import { PersonCard } from "./PersonCard";
import { AddendaAndCosign, CloseCard, Dispositions, Ivc, OfficerView, Referrals } from "./Sections";
import { sendDraft } from "./sync";

const pretty = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replace(/_/g, " ");

const FIELD_LABEL: Record<string, string> = {
  sections: "Note",
  safety_precautions: "Safety precautions",
  dispositions: "Disposition",
  cssrs: "C-SSRS",
  code: "Disposition",
  phone: "Phone",
  revision: "Revision",
  person_id: "Person",
  signer: "Signer",
};

export function EncounterEditor({ me, encounterId }: { me: Me; encounterId: string }) {
  const [draft, setDraftState] = useState<EncounterDraft | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [server, setServer] = useState<ServerEncounter | null>(null);
  const [items, setItems] = useState<OutboxItem[]>([]);
  const [syncConflict, setSyncConflict] = useState<ServerNote | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [localError, setLocalError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [serverTick, setServerTick] = useState(0);
  const [updatedFrom, setUpdatedFrom] = useState<string[]>([]);
  // Each save bumps `sentRef`; "synced" is shown only once a server read started after it.
  const sentRef = useRef(0);
  const [sentTick, setSentTick] = useState(0);
  const [confirmed, setConfirmed] = useState(-1);
  const version = useObservable(outbox.version);
  const isOnline = useObservable(online);
  const latest = useRef<EncounterDraft | null>(null);
  const saving = useRef<Promise<void>>(Promise.resolve());
  const dirtyKey = `draft:${encounterId}`;

  function setDraft(d: EncounterDraft) {
    latest.current = d;
    setDraftState(d);
  }

  /** Persist in order (autosave): the newest state always lands last. */
  function persist(d: EncounterDraft) {
    saving.current = saving.current.then(() => draftPut(d)).catch((e: unknown) => setLocalError(`Could not save on this device: ${String(e)}`));
  }

  // Load the draft from the device; otherwise build one from the server's encounter.
  useEffect(() => {
    let alive = true;
    (async () => {
      const seen = await seenGet<ServerEncounter>(me.id, encounterId).catch(() => undefined);
      if (alive && seen) setServer(seen);
      const local = await draftGet(me.id, encounterId);
      if (local) {
        if (alive) setDraft(local);
        markDirty(dirtyKey, local.unsynced);
        return;
      }
      try {
        const enc = await clinicalApi.encounter(encounterId);
        const d = draftFromServer(enc, me.id, () => crypto.randomUUID());
        await draftPut(d);
        await seenPut(me.id, encounterId, enc);
        if (alive) {
          setServer(enc);
          setDraft(d);
        }
      } catch (e) {
        if (!alive) return;
        if (e instanceof NetworkError) setLoadError("This encounter is not on this device, and the server cannot be reached.");
        else if (e instanceof ApiError && e.status === 404) setLoadError("No encounter here, or it is not one you may open.");
        else setLoadError(e instanceof Error ? e.message : "Could not open the encounter.");
      }
    })();
    return () => {
      alive = false;
    };
  }, [encounterId, me.id]);

  // This draft's items in the outbox (pending and rejected).
  useEffect(() => {
    if (!draft) return;
    void outbox.list().then((all) => setItems(itemsForDraft(all, draft)));
  }, [version, draft?.id, draft?.queued]);

  // Another device or person changed this encounter: look again.
  useEffect(
    () =>
      onServerEvent((ev) => {
        if (isEventType(ev, "clinical.encounter_changed", "clinical.encounter_high_risk") && ev.data.encounter_id === encounterId) setServerTick((t) => t + 1);
      }),
    [encounterId],
  );

  useKeepFocusAboveBar();

  const pending = items.filter((i) => i.status === "pending");
  const rejected = items.filter((i) => i.status === "rejected");
  const outboxConflict: NoteConflict | null = useMemo(() => (draft ? findNoteConflict(items, draft) : null), [items, draft]);

  // When nothing of this draft waits in the outbox: confirm against the server. Checked against
  // the outbox itself (not the rendered list), so a fetch never races writes still on their way.
  useEffect(() => {
    const d = latest.current;
    if (!d || !isOnline || !d.queued.encounter || outboxConflict) return;
    let alive = true;
    const startedFor = sentRef.current;
    (async () => {
      const before = itemsForDraft(await outbox.list(), d);
      if (before.some((i) => i.status === "pending")) return;
      const rej = before.filter((i) => i.status === "rejected");
      let enc: ServerEncounter | null = null;
      try {
        enc = await clinicalApi.encounter(encounterId);
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404 && rej.length > 0)) return;
      }
      const cur = latest.current;
      if (!alive || !cur || sentRef.current !== startedFor) return;
      const after = itemsForDraft(await outbox.list(), cur);
      if (after.some((i) => i.status === "pending")) return;
      if (enc) {
        await seenPut(me.id, encounterId, enc);
        setServer(enc);
      }
      const r = reconcile(cur, enc, rej);
      setSyncConflict(r.conflict);
      if (r.adopted) setNotice("The note was updated from the server (changed on another device).");
      if (r.updated.length > 0 && cur.queued.encounter) setUpdatedFrom(r.updated);
      if (JSON.stringify(r.draft) !== JSON.stringify(cur)) {
        setDraft(r.draft);
        persist(r.draft);
      }
      if (enc) setConfirmed(startedFor);
    })().catch(() => undefined);
    return () => {
      alive = false;
    };
  }, [pending.length, rejected.length, isOnline, serverTick, !!outboxConflict, draft?.queued.encounter, sentTick]);

  if (loadError) {
    return (
      <section class="card">
        <h1 tabIndex={-1}>Encounter</h1>
        <p role="alert" class="form-error">
          {loadError}
        </p>
        <a href="/encounters">All encounters</a>
      </section>
    );
  }
  if (!draft) return <p aria-busy="true">Opening the encounter…</p>;
  const d = draft;

  function update(fn: (d: EncounterDraft) => EncounterDraft) {
    const cur = latest.current;
    if (!cur) return;
    const next = { ...fn(cur), unsynced: true, updated_at: new Date().toISOString() };
    setDraft(next);
    persist(next);
    markDirty(dirtyKey, true);
    setLocalError(null);
  }

  async function save(signing: boolean) {
    const cur = latest.current;
    if (!cur) return;
    setBusy(true);
    setLocalError(null);
    try {
      await saving.current;
      const next = await sendDraft(signing ? { ...cur, sign_requested: true } : cur);
      sentRef.current += 1;
      setSentTick(sentRef.current);
      setDraft(next);
      markDirty(dirtyKey, false);
      setNotice(null);
      setUpdatedFrom([]);
    } catch (e) {
      setLocalError(e instanceof Error ? e.message : "Could not queue the changes.");
    } finally {
      setBusy(false);
    }
  }

  async function cosign(noteId: string) {
    setBusy(true);
    try {
      await outbox.enqueue({ method: "POST", url: `/api/v1/clinical/notes/${noteId}/cosign/`, label: "Note co-signed" });
      sentRef.current += 1;
      setSentTick(sentRef.current);
    } catch (e) {
      setLocalError(e instanceof Error ? e.message : "Could not queue the co-signature.");
    } finally {
      setBusy(false);
    }
  }

  async function choose(conflict: NoteConflict, choice: "mine" | "server") {
    setBusy(true);
    try {
      const resolved = resolveNoteConflict(d, conflict, choice);
      const next = await sendDraft(resolved, { discardSeqs: conflict.items.map((i) => i.seq).filter((s): s is number => s !== undefined) });
      sentRef.current += 1;
      setSentTick(sentRef.current);
      setDraft(next);
      setSyncConflict(null);
      markDirty(dirtyKey, false);
      setNotice(choice === "mine" ? "Your version is being sent." : "The server's version is now on this device.");
    } catch (e) {
      setLocalError(e instanceof Error ? e.message : "Could not resolve the conflict.");
    } finally {
      setBusy(false);
    }
  }

  const conflict: NoteConflict | null =
    outboxConflict ?? (syncConflict ? { items: [], server: syncConflict, mine: d.note, serverSigned: syncConflict.status === "signed" } : null);
  const serverNote = server?.notes?.find((n) => n.id === d.note_id);
  const signed = serverNote?.status === "signed";
  // Signed only when the server says so; a signature still on its way locks the note but is not "signed".
  const signWaiting = d.queued.signed && !signed;
  const noteLocked = d.queued.signed || signed;
  const otherAuthor = serverNote && serverNote.author !== me.id ? (serverNote.author_name ?? "another clinician") : null;
  const conflictSeqs = new Set((conflict?.items ?? []).map((i) => i.seq));
  const refusedSign = rejected.filter((i) => i.url.endsWith(`/notes/${d.note_id}/sign/`) && i.last_status !== 409);
  const otherRejected = rejected.filter((i) => !conflictSeqs.has(i.seq) && !refusedSign.includes(i));
  const cosignPending = pending.some((i) => i.url.endsWith("/cosign/"));

  // The one sign-readiness rule (generated from the server), on what this device shows.
  const risk = localRisk(d) ?? server?.risk_level ?? null;
  const missing = signMissing({
    format: d.note.format,
    sections: d.note.sections,
    safety_precautions: d.note.safety_precautions,
    has_screen: (server?.screens?.length ?? 0) > 0 || localRisk(d) !== null,
    risk_level: risk,
    disposition_count: d.dispositions.length,
  });
  const canSign = !busy && !noteLocked && !conflict && missing.length === 0 && !otherAuthor;
  const toSave = planWrites(d, () => "00000000-0000-4000-8000-000000000000").writes.length > 0;

  // The server's outstanding prompts, less what this device already did (it is sent on the next save).
  const allConfirmed = SAFETY_PRECAUTIONS.every((k) => d.note.safety_precautions[k] === true);
  const hasPlan = SAFETY_PLAN_PARTS.some(([k]) => d.safety_plan[k].trim() !== "");
  const prompts = (server?.prompts ?? []).filter(
    (p) => !((p === "safety_precautions" && allConfirmed) || (p === "disposition" && d.dispositions.length > 0) || (p === "safety_plan" && hasPlan) || (p === "referral" && d.referrals.length > 0)),
  );

  return (
    <div class="encounter-screen">
      <section class="card encounter" aria-labelledby="page-title">
        <h1 id="page-title" tabIndex={-1}>
          Encounter{d.incident_id ? ` · incident ${d.incident_id}` : ""}
        </h1>
        <p class="muted">
          Started {formatDayTime(d.started_at)} · {pretty(d.kind)}
          {d.closed_at ? ` · closed ${formatDayTime(d.closed_at)}` : ""}
        </p>
        <SyncStatus draft={d} pending={pending.length} rejected={rejected.length} signRefused={refusedSign.length > 0} signed={signed} signWaiting={signWaiting} online={isOnline} confirmed={confirmed === sentRef.current} />
        {updatedFrom.length > 0 && <p class="notice">Updated from another device: {updatedFrom.join(", ")}.</p>}
        {notice && <p class="notice">{notice}</p>}
        {localError && (
          <p role="alert" class="form-error">
            {localError}
          </p>
        )}
      </section>

      {conflict && <ConflictView draft={d} server={conflict.server} busy={busy} onChoose={(c) => void choose(conflict, c)} />}

      {otherRejected.length > 0 && (
        <section class="card rejected-list" role="alert" aria-labelledby="rejected-title">
          <h2 id="rejected-title">Not accepted by the server</h2>
          <ul>
            {otherRejected.map((i) => (
              <li key={i.id}>
                <strong>{i.label ?? i.url}</strong>: {i.last_error}
                <FieldErrors item={i} />
                <button type="button" class="btn btn-secondary" onClick={() => i.seq !== undefined && void outbox.discard(i.seq)}>
                  Dismiss
                </button>
              </li>
            ))}
          </ul>
          <p class="hint">Fix what is listed, then save again.</p>
        </section>
      )}

      <PersonCard draft={d} update={update} />

      <section class="card" aria-labelledby="note-title">
        <h2 id="note-title">Note</h2>
        {signed && serverNote?.signed_at && (
          <p class="pill pill-on" data-testid="note-signed">
            Signed by {serverNote.signed_by_name} · {formatDayTime(serverNote.signed_at)}
          </p>
        )}
        {signWaiting && <p class="notice">Signature waiting for the server: the note is locked until it answers.</p>}
        <div class="field">
          <label for="note-format">Note format</label>
          <select
            id="note-format"
            value={d.note.format}
            disabled={d.queued.note !== null}
            onChange={(e) => {
              const format = e.currentTarget.value as NoteFormat;
              update((x) => ({ ...x, note: { ...x.note, format } }));
            }}
          >
            {(Object.keys(FORMAT_LABEL) as NoteFormat[]).map((f) => (
              <option value={f} key={f}>
                {FORMAT_LABEL[f]}
              </option>
            ))}
          </select>
          {d.queued.note !== null && <p class="hint">The format is fixed once the note is saved.</p>}
        </div>
        {FORMAT_SECTIONS[d.note.format].map((s) => (
          <div class="field" key={s}>
            <label for={`section-${s}`}>{SECTION_LABELS[s] ?? pretty(s)}</label>
            <textarea
              id={`section-${s}`}
              rows={3}
              value={d.note.sections[s] ?? ""}
              readOnly={noteLocked}
              onInput={(e) => {
                const v = e.currentTarget.value;
                update((x) => ({ ...x, note: { ...x.note, sections: { ...x.note.sections, [s]: v } } }));
              }}
            />
          </div>
        ))}
      </section>

      <section class="card" aria-labelledby="cssrs-title">
        <h2 id="cssrs-title">Suicide risk screen (C-SSRS)</h2>
        <CssrsForm
          answers={d.cssrs}
          overrideRisk={d.override_risk}
          overrideReason={d.override_reason}
          serverRisk={server?.risk_level}
          locked={false}
          onChange={(a, o, r) => update((x) => ({ ...x, cssrs: a, override_risk: o, override_reason: r }))}
        />
        {prompts.length > 0 && <p class="hint">Still to do: {prompts.map((p) => PROMPT_LABELS[p] ?? pretty(p)).join("; ")}.</p>}
      </section>

      <section class="card" aria-labelledby="precautions-title">
        <h2 id="precautions-title">Safety precautions</h2>
        <p class="hint">Required before signing when the risk is high.</p>
        {SAFETY_PRECAUTIONS.map((k) => (
          <label class="check" key={k}>
            <input
              type="checkbox"
              checked={d.note.safety_precautions[k] === true}
              disabled={noteLocked}
              onChange={(e) => {
                const v = e.currentTarget.checked;
                update((x) => ({ ...x, note: { ...x.note, safety_precautions: { ...x.note.safety_precautions, [k]: v } } }));
              }}
            />
            {SAFETY_PRECAUTION_LABELS[k]}
          </label>
        ))}
      </section>

      <section class="card" aria-labelledby="plan-title">
        <h2 id="plan-title">Safety plan (Stanley–Brown)</h2>
        {SAFETY_PLAN_PARTS.map(([k, label]) => (
          <div class="field" key={k}>
            <label for={`plan-${k}`}>{label}</label>
            <textarea
              id={`plan-${k}`}
              rows={2}
              value={d.safety_plan[k]}
              onInput={(e) => {
                const v = e.currentTarget.value;
                update((x) => ({ ...x, safety_plan: { ...x.safety_plan, [k]: v } }));
              }}
            />
          </div>
        ))}
        <label class="check">
          <input
            type="checkbox"
            checked={d.safety_plan.lethal_means_counselling_done}
            onChange={(e) => {
              const v = e.currentTarget.checked;
              update((x) => ({ ...x, safety_plan: { ...x.safety_plan, lethal_means_counselling_done: v } }));
            }}
          />
          Lethal means counselling done
        </label>
      </section>

      <Dispositions draft={d} update={update} />
      <Referrals draft={d} update={update} me={me} />
      <Ivc draft={d} update={update} />
      <OfficerView server={server} />

      {signed && serverNote && (
        <AddendaAndCosign
          me={me}
          note={serverNote}
          draft={d}
          update={update}
          send={() => void save(false)}
          cosignPending={cosignPending}
          onCosign={() => void cosign(serverNote.id)}
          busy={busy}
        />
      )}

      <CloseCard
        draft={d}
        signed={signed}
        busy={busy}
        onClose={() => {
          update((x) => ({ ...x, closed_at: new Date().toISOString() }));
          void save(false);
        }}
        onReopen={() => {
          update((x) => ({ ...x, closed_at: null }));
          void save(false);
        }}
      />

      {!signed && (
        <section class="card readiness" aria-labelledby="ready-title" id="sign-readiness">
          <h2 id="ready-title">Signing</h2>
          {refusedSign.length > 0 && (
            <div role="alert" class="sign-refused">
              <p>
                <strong>The server did not sign the note.</strong> It is a draft again. The server said:
              </p>
              {refusedSign.map((i) => (
                <FieldErrors key={i.id} item={i} fallback={i.last_error} />
              ))}
            </div>
          )}
          {signWaiting ? (
            <p>The signature is on its way. The note shows as signed once the server accepts it.</p>
          ) : otherAuthor ? (
            <p>Only the author ({otherAuthor}) signs this note.</p>
          ) : missing.length > 0 ? (
            <>
              <p>Before you can sign:</p>
              <ul class="missing" data-testid="sign-missing">
                {missing.map((m) => (
                  <li key={m.code}>{m.label}</li>
                ))}
              </ul>
            </>
          ) : (
            <p>Everything needed to sign is there.</p>
          )}
        </section>
      )}

      <div class="action-bar" role="region" aria-label="Save and sign">
        <button type="button" class="btn btn-secondary" disabled={busy || !toSave} onClick={() => void save(false)}>
          {toSave ? "Save" : "Saved"}
        </button>
        {signed ? (
          <a class="btn btn-primary" href={`/encounters/${d.id}/print`}>
            Printable view
          </a>
        ) : (
          <button type="button" class="btn btn-primary" disabled={!canSign} aria-describedby="sign-readiness" onClick={() => void save(true)}>
            {signWaiting ? "Signing…" : "Sign note"}
            {!signWaiting && !noteLocked && missing.length > 0 && (
              <span class="todo-count" aria-hidden="true" title={`${missing.length} to do before signing`}>
                {missing.length}
              </span>
            )}
          </button>
        )}
      </div>
    </div>
  );
}

/**
 * The Save / Sign bar sticks to the bottom of the screen; a field that gets focus (a tap, the
 * keyboard's Tab) is scrolled to sit fully above it, so the bar never covers what the person types in.
 */
function useKeepFocusAboveBar() {
  useEffect(() => {
    const onFocus = (e: FocusEvent) => {
      const target = e.target as HTMLElement | null;
      const bar = document.querySelector(".action-bar");
      if (!target || !bar || bar.contains(target)) return;
      // Only fields one types into: a tapped button, radio or checkbox is already where the finger is.
      const typing = target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || (target instanceof HTMLInputElement && !["radio", "checkbox", "button", "submit"].includes(target.type));
      if (!typing) return;
      requestAnimationFrame(() => {
        const field = target.getBoundingClientRect();
        const top = bar.getBoundingClientRect().top;
        if (field.bottom > top - 8) window.scrollBy(0, field.bottom - top + 8);
      });
    };
    document.addEventListener("focusin", onFocus);
    return () => document.removeEventListener("focusin", onFocus);
  }, []);
}

function FieldErrors({ item, fallback }: { item: OutboxItem; fallback?: string | null }) {
  const entries = Object.entries(item.field_errors ?? {});
  if (entries.length === 0) return fallback ? <p>{fallback}</p> : null;
  return (
    <ul class="field-errors">
      {entries.map(([f, msgs]) => (
        <li key={f}>
          {FIELD_LABEL[f] ?? pretty(f)}: {msgs.join(" ")}
        </li>
      ))}
    </ul>
  );
}

function SyncStatus({
  draft,
  pending,
  rejected,
  signRefused,
  signed,
  signWaiting,
  online: isOnline,
  confirmed,
}: {
  draft: EncounterDraft;
  pending: number;
  rejected: number;
  signRefused: boolean;
  signed: boolean;
  signWaiting: boolean;
  online: boolean;
  confirmed: boolean;
}) {
  let text: string;
  if (signRefused && !draft.unsynced && pending === 0) {
    return (
      <p class="sync-status" role="status" data-testid="encounter-sync">
        The server did not sign the note. <a href="#sign-readiness" data-native>See why under “Signing”</a>.
      </p>
    );
  }
  if (draft.unsynced) text = "Saved on this device; not sent yet (press Save).";
  else if (pending > 0) text = isOnline ? `Sending ${pending} change${pending === 1 ? "" : "s"}…` : `${pending} change${pending === 1 ? "" : "s"} waiting for the network${signWaiting ? " (signature included)" : ""}.`;
  else if (rejected > 0) text = "Some changes were not accepted: see below.";
  else if (!draft.queued.encounter) text = "Not sent yet.";
  else if (!confirmed) text = isOnline ? "Checking with the server…" : "Sent earlier; offline now.";
  else text = signed ? "Synced with the server. Note signed." : "Synced with the server.";
  return (
    <p class="sync-status" role="status" data-testid="encounter-sync">
      {text}
    </p>
  );
}
