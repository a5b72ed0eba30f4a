import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { SafetyPrecaution } from "../../generated/notes";
import { ApiError, NetworkError, type Me } from "../../lib/api";
import { isEventType } from "../../lib/events";
import { DISPOSITIONS, IVC_OUTCOMES, IVC_PATHWAYS, REFERRAL_TYPES, clinicalApi, type Agency, type PersonHit, type ServerEncounter } from "../../lib/clinical";
import { findNoteConflict, resolveNoteConflict, type NoteConflict, type ServerNote } from "../../lib/conflict";
import { isComplete, normalize } from "../../lib/cssrs";
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
  seenGet,
  seenPut,
  type EncounterDraft,
  type IvcDraft,
  type NoteFormat,
} from "../../lib/drafts";
import { draftFromServer, reconcile } from "../../lib/reconcile";
import { onServerEvent, online, outbox } from "../../lib/session";
import { formatDayTime } from "../../lib/time";
import { cacheGet, cachePut } from "../../lib/userdata";
import { useObservable } from "../../ui/hooks";
import { ConflictView } from "./ConflictView";
import { CssrsForm, RiskBadge } from "./Cssrs";
import { sendDraft } from "./sync";

const pretty = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replace(/_/g, " ");

const FIELD_LABEL: Record<string, string> = {
  sections: "Note",
  safety_precautions: "Safety precautions",
  dispositions: "Disposition",
  cssrs: "C-SSRS",
  revision: "Revision",
  person_id: "Person",
  signer: "Signer",
};

const PRECAUTION_LABEL: Record<string, string> & Record<SafetyPrecaution, string> = {
  lethal_means_addressed: "Lethal means addressed",
  not_left_alone: "Person not left alone",
  supervisor_notified: "Supervisor notified",
  safety_plan_reviewed: "Safety plan reviewed",
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

  useEffect(() => () => void 0, []);

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
      setNotice(signing ? "Signature queued: it is sent with the note." : "Saved. Changes are sent to the server (or kept until the phone is back online).");
    } catch (e) {
      setLocalError(e instanceof Error ? e.message : "Could not queue the changes.");
    } finally {
      setBusy(false);
    }
  }

  function signProblems(): string[] {
    const problems: string[] = [];
    const missing = FORMAT_SECTIONS[d.note.format].filter((s) => !(d.note.sections[s] ?? "").trim());
    if (missing.length) problems.push(`Fill in: ${missing.map(pretty).join(", ")}.`);
    if (d.note.format === "crisis_assessment" && !isComplete(normalize(d.cssrs))) problems.push("A crisis assessment needs a complete C-SSRS screen.");
    return problems;
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
  const noteLocked = d.queued.signed || signed;
  const problems = signProblems();

  return (
    <>
      <section class="card encounter" aria-labelledby="page-title">
        <h1 id="page-title" tabIndex={-1}>
          Encounter{d.incident_id ? ` · incident ${d.incident_id}` : ""}
        </h1>
        <p class="muted">
          Started {formatDayTime(d.started_at)} · {pretty(d.kind)}
        </p>
        <SyncStatus draft={d} pending={pending.length} rejected={rejected.length} signed={signed} online={isOnline} confirmed={confirmed === sentRef.current} />
        {notice && <p class="notice">{notice}</p>}
        {localError && (
          <p role="alert" class="form-error">
            {localError}
          </p>
        )}
      </section>

      {conflict && <ConflictView draft={d} server={conflict.server} busy={busy} onChoose={(c) => void choose(conflict, c)} />}

      {rejected.filter((i) => i.last_status !== 409).length > 0 && (
        <section class="card rejected-list" role="alert" aria-labelledby="rejected-title">
          <h2 id="rejected-title">Not accepted by the server</h2>
          <ul>
            {rejected
              .filter((i) => i.last_status !== 409)
              .map((i) => (
                <li key={i.id}>
                  <strong>{i.label ?? i.url}</strong>: {i.last_error}
                  {i.field_errors && Object.keys(i.field_errors).length > 0 && (
                    <ul class="field-errors">
                      {Object.entries(i.field_errors).map(([f, msgs]) => (
                        <li key={f}>
                          {FIELD_LABEL[f] ?? pretty(f)}: {msgs.join(" ")}
                        </li>
                      ))}
                    </ul>
                  )}
                  <button type="button" class="btn btn-secondary" onClick={() => i.seq !== undefined && void outbox.discard(i.seq)}>
                    Dismiss
                  </button>
                </li>
              ))}
          </ul>
          <p class="hint">Fix what is listed, then save or sign again.</p>
        </section>
      )}

      <PersonCard draft={d} update={update} me={me} />

      <section class="card" aria-labelledby="note-title">
        <h2 id="note-title">Note</h2>
        {signed && serverNote?.signed_at && <p class="pill pill-on">Signed {formatDayTime(serverNote.signed_at)}</p>}
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
            <label for={`section-${s}`}>{pretty(s)}</label>
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
        {server?.prompts && server.prompts.length > 0 && <p class="hint">Still to do: {server.prompts.map(pretty).join(", ")}.</p>}
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
            {PRECAUTION_LABEL[k]}
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

      <section class="card" aria-labelledby="disp-title">
        <h2 id="disp-title">Dispositions</h2>
        {DISPOSITIONS.map(([code, label]) => {
          const sent = d.queued.dispositions.includes(code);
          return (
            <label class="check" key={code}>
              <input
                type="checkbox"
                checked={d.dispositions.includes(code)}
                disabled={sent}
                onChange={(e) => {
                  const on = e.currentTarget.checked;
                  update((x) => ({ ...x, dispositions: on ? [...x.dispositions, code] : x.dispositions.filter((c) => c !== code) }));
                }}
              />
              {label}
              {sent && <span class="muted"> (recorded)</span>}
            </label>
          );
        })}
      </section>

      <Referrals draft={d} update={update} me={me} />
      <Ivc draft={d} update={update} />

      <section class="card actions" aria-label="Save and sign">
        {problems.length > 0 && !noteLocked && (
          <ul class="hint">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
        <div class="dialog-actions">
          <button type="button" class="btn btn-secondary" disabled={busy} onClick={() => void save(false)}>
            Save
          </button>
          <button type="button" class="btn btn-primary" disabled={busy || noteLocked || problems.length > 0 || !!conflict} onClick={() => void save(true)}>
            {noteLocked ? "Signed" : "Sign note"}
          </button>
        </div>
        <p class="hint">Every change is kept on this device as you type. Save sends it; Sign locks the note.</p>
      </section>
    </>
  );
}

function SyncStatus({
  draft,
  pending,
  rejected,
  signed,
  online: isOnline,
  confirmed,
}: {
  draft: EncounterDraft;
  pending: number;
  rejected: number;
  signed: boolean;
  online: boolean;
  confirmed: boolean;
}) {
  let text: string;
  if (draft.unsynced) text = "Saved on this device; not sent yet (press Save).";
  else if (pending > 0) text = isOnline ? `Sending ${pending} change${pending === 1 ? "" : "s"}…` : `${pending} change${pending === 1 ? "" : "s"} waiting for the network.`;
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

function PersonCard({ draft, update, me }: { draft: EncounterDraft; update: (fn: (d: EncounterDraft) => EncounterDraft) => void; me: Me }) {
  const [q, setQ] = useState("");
  const [hits, setHits] = useState<PersonHit[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [first, setFirst] = useState("");
  const [last, setLast] = useState("");
  const [dob, setDob] = useState("");
  // Fixed once the server's encounter names the person; until then it can be chosen (also later).
  const locked = draft.queued.encounter && !!draft.person && draft.queued.person_linked === draft.person.id;
  void me;

  async function search(e: Event) {
    e.preventDefault();
    setErr(null);
    try {
      setHits((await clinicalApi.searchPersons(q)).results);
    } catch (x) {
      setHits(null);
      setErr(x instanceof NetworkError ? "Search needs the network. You can create the person on this device." : x instanceof Error ? x.message : "Search failed.");
    }
  }

  function create(e: Event) {
    e.preventDefault();
    if (!first.trim() && !last.trim()) {
      setErr("Enter a first or last name.");
      return;
    }
    const id = crypto.randomUUID();
    update((x) => ({
      ...x,
      person: { id, name: `${first} ${last}`.trim(), date_of_birth: dob || null, create: { first_name: first.trim(), last_name: last.trim(), date_of_birth: dob || null } },
    }));
  }

  return (
    <section class="card" aria-labelledby="person-title">
      <h2 id="person-title">Person</h2>
      {draft.person ? (
        <p>
          <strong>{draft.person.name || "(no name)"}</strong>
          {draft.person.date_of_birth && <span class="muted"> · born {draft.person.date_of_birth}</span>}
          {draft.person.create && !draft.queued.person && <span class="muted"> · new record</span>}
          {!locked && (
            <button type="button" class="btn btn-secondary" onClick={() => update((x) => ({ ...x, person: null }))}>
              Change
            </button>
          )}
        </p>
      ) : (
        <>
          <form onSubmit={(e) => void search(e)} class="inline-form">
            <label for="person-q">Search by name</label>
            <input id="person-q" value={q} onInput={(e) => setQ(e.currentTarget.value)} autocomplete="off" />
            <button type="submit" class="btn btn-secondary">
              Search
            </button>
          </form>
          {hits && hits.length === 0 && <p class="muted">No match.</p>}
          {hits && hits.length > 0 && (
            <ul class="hits">
              {hits.map((h) => (
                <li key={h.id}>
                  <button
                    type="button"
                    class="btn btn-secondary"
                    onClick={() => update((x) => ({ ...x, person: { id: h.id, name: `${h.first_name ?? ""} ${h.last_name ?? ""}`.trim(), date_of_birth: h.date_of_birth ?? null } }))}
                  >
                    {h.first_name} {h.last_name}
                    {h.date_of_birth ? ` · ${h.date_of_birth}` : ""}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <form onSubmit={create} class="new-person">
            <h3>New person</h3>
            <label for="person-first">First name</label>
            <input id="person-first" value={first} onInput={(e) => setFirst(e.currentTarget.value)} />
            <label for="person-last">Last name</label>
            <input id="person-last" value={last} onInput={(e) => setLast(e.currentTarget.value)} />
            <label for="person-dob">Date of birth</label>
            <input id="person-dob" type="date" value={dob} onInput={(e) => setDob(e.currentTarget.value)} />
            <button type="submit" class="btn btn-secondary">
              Create person
            </button>
          </form>
          {err && <p class="form-error">{err}</p>}
        </>
      )}
    </section>
  );
}

function Referrals({ draft, update, me }: { draft: EncounterDraft; update: (fn: (d: EncounterDraft) => EncounterDraft) => void; me: Me }) {
  const [agencies, setAgencies] = useState<Agency[]>([]);
  const [type, setType] = useState("outpatient_mental_health");
  const [agency, setAgency] = useState("");
  const [notes, setNotes] = useState("");
  useEffect(() => {
    let alive = true;
    void cacheGet<Agency[]>(me.id, "agencies").then((a) => alive && a && setAgencies(a));
    clinicalApi
      .agencies()
      .then((r) => {
        if (!alive) return;
        setAgencies(r.results);
        void cachePut(me.id, "agencies", r.results);
      })
      .catch(() => {
        /* offline: the cached directory is used */
      });
    return () => {
      alive = false;
    };
  }, [me.id]);

  function add() {
    const a = agencies.find((x) => String(x.id) === agency);
    update((x) => ({
      ...x,
      referrals: [...x.referrals, { id: crypto.randomUUID(), type, agency_id: a ? a.id : null, agency_name: a?.name ?? "", notes }],
    }));
    setNotes("");
  }

  return (
    <section class="card" aria-labelledby="ref-title">
      <h2 id="ref-title">Referrals</h2>
      {draft.referrals.length > 0 && (
        <ul class="referrals">
          {draft.referrals.map((r) => (
            <li key={r.id}>
              {REFERRAL_TYPES.find(([k]) => k === r.type)?.[1] ?? r.type}
              {r.agency_name ? ` · ${r.agency_name}` : ""}
              <span class="muted">{draft.queued.referrals.includes(r.id) ? " (saved)" : " (on this device)"}</span>
              {!draft.queued.referrals.includes(r.id) && (
                <button type="button" class="btn btn-secondary" onClick={() => update((x) => ({ ...x, referrals: x.referrals.filter((y) => y.id !== r.id) }))}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <div class="field">
        <label for="ref-type">Referral type</label>
        <select id="ref-type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
          {REFERRAL_TYPES.map(([k, l]) => (
            <option value={k} key={k}>
              {l}
            </option>
          ))}
        </select>
        <label for="ref-agency">Agency</label>
        <select id="ref-agency" value={agency} onChange={(e) => setAgency(e.currentTarget.value)}>
          <option value="">No agency</option>
          {agencies.map((a) => (
            <option value={String(a.id)} key={a.id}>
              {a.name}
            </option>
          ))}
        </select>
        <label for="ref-notes">Referral notes</label>
        <textarea id="ref-notes" rows={2} value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
        <button type="button" class="btn btn-secondary" onClick={add}>
          Add referral
        </button>
        {!draft.person && <p class="hint">A referral needs the person: record who it is above.</p>}
      </div>
    </section>
  );
}

function Ivc({ draft, update }: { draft: EncounterDraft; update: (fn: (d: EncounterDraft) => EncounterDraft) => void }) {
  const ivc = draft.ivc;
  const set = (patch: Partial<IvcDraft>) => update((x) => ({ ...x, ivc: { ...(x.ivc as IvcDraft), ...patch } }));
  return (
    <section class="card" aria-labelledby="ivc-title">
      <h2 id="ivc-title">Involuntary commitment (IVC)</h2>
      <label class="check">
        <input
          type="checkbox"
          checked={ivc !== null}
          disabled={draft.queued.ivc !== null}
          onChange={(e) => {
            const on = e.currentTarget.checked;
            update((x) => ({
              ...x,
              ivc: on ? { pathway: "petition_122c_261", petition_at: "", custody_order_at: "", custody_taken_at: "", first_exam_at: "", outcome: "" } : null,
            }));
          }}
        />
        IVC on this encounter
      </label>
      {ivc && (
        <>
          <div class="field">
            <label for="ivc-pathway">Pathway</label>
            <select id="ivc-pathway" value={ivc.pathway} onChange={(e) => set({ pathway: e.currentTarget.value })}>
              {IVC_PATHWAYS.map(([k, l]) => (
                <option value={k} key={k}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          {(
            [
              ["petition_at", "Petition filed"],
              ["custody_order_at", "Custody order issued"],
              ["custody_taken_at", "Custody taken"],
              ["first_exam_at", "First examination"],
            ] as const
          ).map(([k, l]) => (
            <div class="field" key={k}>
              <label for={`ivc-${k}`}>{l}</label>
              <input id={`ivc-${k}`} type="datetime-local" value={ivc[k]} onInput={(e) => set({ [k]: e.currentTarget.value })} />
            </div>
          ))}
          <div class="field">
            <label for="ivc-outcome">Outcome</label>
            <select id="ivc-outcome" value={ivc.outcome} onChange={(e) => set({ outcome: e.currentTarget.value })}>
              <option value="">Not yet</option>
              {IVC_OUTCOMES.map(([k, l]) => (
                <option value={k} key={k}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          <p class="hint">Times are this device's local time. The server checks their order.</p>
        </>
      )}
    </section>
  );
}
