import { useEffect, useState } from "preact/hooks";
import { ADDENDUM_KINDS, DISPOSITION_CONFLICTS, OFFICER_SECTION_FIELDS, type AddendumKind, type DispositionCode } from "../../generated/clinical";
import { REFERRAL_STATUSES } from "../../generated/referrals";
import type { Me } from "../../lib/api";
import { DISPOSITIONS, IVC_OUTCOMES, IVC_PATHWAYS, REFERRAL_TYPES, clinicalApi, type Agency, type ServerEncounter, type ServerNote } from "../../lib/clinical";
import type { AddendumDraft, EncounterDraft, IvcDraft } from "../../lib/drafts";
import { formatDayTime } from "../../lib/time";
import { cacheGet, cachePut } from "../../lib/userdata";

type Update = (fn: (d: EncounterDraft) => EncounterDraft) => void;

const label = (list: readonly (readonly [string, string])[], value: string) => list.find(([k]) => k === value)?.[1] ?? value;

export function Dispositions({ draft, update }: { draft: EncounterDraft; update: Update }) {
  return (
    <section class="card" aria-labelledby="disp-title">
      <h2 id="disp-title">Dispositions</h2>
      <p class="hint">Several outcomes can be recorded; outcomes that contradict each other cannot both be chosen.</p>
      {DISPOSITIONS.map(([code, text]) => {
        const recorded = draft.queued.dispositions.includes(code);
        const chosen = draft.dispositions.includes(code);
        const conflicts = DISPOSITION_CONFLICTS[code];
        const blockers = draft.dispositions.filter((c): c is DispositionCode => c !== code && c in conflicts);
        const why = blockers.map((b) => `Not with “${label(DISPOSITIONS, b)}”: ${conflicts[b]}.`);
        return (
          <div class="disp" key={code}>
            <label class="check">
              <input
                type="checkbox"
                checked={chosen}
                disabled={recorded || (!chosen && blockers.length > 0)}
                aria-describedby={!chosen && why.length ? `disp-why-${code}` : undefined}
                onChange={(e) => {
                  const on = e.currentTarget.checked;
                  update((x) => ({ ...x, dispositions: on ? [...x.dispositions, code] : x.dispositions.filter((c) => c !== code) }));
                }}
              />
              {text}
              {recorded && <span class="muted"> (recorded)</span>}
            </label>
            {!chosen && why.length > 0 && (
              <p class="hint disp-why" id={`disp-why-${code}`}>
                {why[0]}
              </p>
            )}
          </div>
        );
      })}
    </section>
  );
}

export function Referrals({ draft, update, me }: { draft: EncounterDraft; update: Update; me: Me }) {
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
    const ref = { id: crypto.randomUUID(), type, agency_id: a ? a.id : null, agency_name: a?.name ?? "", notes, ...(a?.phone ? { agency_phone: a.phone } : {}) };
    update((x) => ({ ...x, referrals: [...x.referrals, ref] }));
    setNotes("");
  }

  return (
    <section class="card" aria-labelledby="ref-title">
      <h2 id="ref-title">Referrals</h2>
      {draft.referrals.length > 0 && (
        <ul class="referrals">
          {draft.referrals.map((r) => {
            const saved = draft.queued.referrals.includes(r.id);
            return (
              <li key={r.id} data-referral={r.id}>
                {r.restricted ? (
                  <p>A referral you are not authorised to read (42 CFR Part 2).</p>
                ) : (
                  <>
                    <p>
                      <strong>{label(REFERRAL_TYPES, r.type)}</strong>
                      {r.agency_name ? ` · ${r.agency_name}` : ""}
                      {r.agency_phone && (
                        <>
                          {" · "}
                          <a href={`tel:${r.agency_phone}`} data-native>
                            {r.agency_phone}
                          </a>
                        </>
                      )}
                    </p>
                    {r.notes && <p class="referral-notes">{r.notes}</p>}
                  </>
                )}
                <p class="muted">
                  {r.status ? label(REFERRAL_STATUSES, r.status) : saved ? "Sent" : "On this device, not sent yet"}
                  {r.made_by ? ` · by ${r.made_by}` : ""}
                </p>
                {!saved && !r.status && (
                  <button type="button" class="btn btn-secondary" onClick={() => update((x) => ({ ...x, referrals: x.referrals.filter((y) => y.id !== r.id) }))}>
                    Remove
                  </button>
                )}
              </li>
            );
          })}
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

export function Ivc({ draft, update }: { draft: EncounterDraft; update: Update }) {
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

/** The officer's part, as the server holds it (read only here: the officer writes it). */
export function OfficerView({ server }: { server: ServerEncounter | null }) {
  const section = server?.officer_section as Record<string, unknown> | null | undefined;
  return (
    <section class="card" aria-labelledby="officer-title">
      <h2 id="officer-title">Officer section</h2>
      {!section ? (
        <p class="muted">{server ? "The officer has not written it yet." : "Shown once the encounter is on the server."}</p>
      ) : (
        <dl class="facts officer-facts">
          {OFFICER_SECTION_FIELDS.map((f) => {
            const v = section[f.name];
            if (f.kind !== "boolean" && (v === "" || v === null || v === undefined)) return null;
            const shown = f.kind === "boolean" ? (v ? "Yes" : "No") : f.kind === "choice" ? (f.choices.find((c) => c.value === v)?.label ?? String(v)) : String(v);
            return (
              <div key={f.name}>
                <dt>{f.label}</dt>
                <dd>{shown}</dd>
              </div>
            );
          })}
        </dl>
      )}
    </section>
  );
}

/** Corrections to a signed note (append-only) and the clinical supervisor's co-signature. */
export function AddendaAndCosign({
  me,
  note,
  draft,
  update,
  send,
  cosignPending,
  onCosign,
  busy,
}: {
  me: Me;
  note: ServerNote;
  draft: EncounterDraft;
  update: Update;
  send: () => void;
  cosignPending: boolean;
  onCosign: () => void;
  busy: boolean;
}) {
  const [kind, setKind] = useState<AddendumKind>("addendum");
  const [reason, setReason] = useState("");
  const [text, setText] = useState("");
  const [err, setErr] = useState<string | null>(null);
  const saved = note.addenda ?? [];
  const local = draft.addenda.filter((a) => !saved.some((s) => s.id === a.id));
  const mayCosign = me.roles.includes("clinical_supervisor") && !note.cosigned_at && note.signed_by !== me.id;

  function add(e: Event) {
    e.preventDefault();
    if (!reason.trim() || !text.trim()) {
      setErr("An addendum needs a reason and its text.");
      return;
    }
    const a: AddendumDraft = { id: crypto.randomUUID(), kind, reason: reason.trim(), text, created_at: new Date().toISOString() };
    update((x) => ({ ...x, addenda: [...x.addenda, a] }));
    setReason("");
    setText("");
    setErr(null);
    send();
  }

  return (
    <section class="card" aria-labelledby="addenda-title">
      <h2 id="addenda-title">Addenda</h2>
      <p class="hint">The signed note cannot change. Corrections and late entries are added below it, with a reason.</p>
      {saved.length + local.length === 0 && <p class="muted">No addenda.</p>}
      <ul class="addenda">
        {saved.map((a) => (
          <li key={a.id} data-addendum={a.id}>
            <p>
              <strong>{label(ADDENDUM_KINDS, a.kind)}</strong> · {a.author_name}
              {a.created_at ? ` · ${formatDayTime(a.created_at)}` : ""}
            </p>
            <p class="muted">Reason: {a.reason}</p>
            <p class="addendum-text">{a.text}</p>
          </li>
        ))}
        {local.map((a) => (
          <li key={a.id} data-addendum={a.id}>
            <p>
              <strong>{label(ADDENDUM_KINDS, a.kind)}</strong> · <span class="muted">on this device, sending</span>
            </p>
            <p class="muted">Reason: {a.reason}</p>
            <p class="addendum-text">{a.text}</p>
          </li>
        ))}
      </ul>
      <form class="new-addendum" onSubmit={add}>
        <h3>Add to the record</h3>
        <label for="addendum-kind">Kind</label>
        <select id="addendum-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as AddendumKind)}>
          {ADDENDUM_KINDS.map(([k, l]) => (
            <option value={k} key={k}>
              {l}
            </option>
          ))}
        </select>
        <label for="addendum-reason">Reason</label>
        <input id="addendum-reason" value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} />
        <label for="addendum-text">Text</label>
        <textarea id="addendum-text" rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        {err && (
          <p class="form-error" role="alert">
            {err}
          </p>
        )}
        <button type="submit" class="btn btn-secondary" disabled={busy}>
          Add addendum
        </button>
      </form>
      <h3>Co-signature</h3>
      {note.cosigned_at ? (
        <p data-testid="cosigned">
          Co-signed by {note.cosigned_by_name} · {formatDayTime(note.cosigned_at)}
        </p>
      ) : mayCosign ? (
        <button type="button" class="btn btn-primary" disabled={busy || cosignPending} onClick={onCosign}>
          {cosignPending ? "Co-signature sending…" : "Co-sign note"}
        </button>
      ) : (
        <p class="muted">Not co-signed. A clinical supervisor other than the signer co-signs.</p>
      )}
    </section>
  );
}

/** Open or closed: closing starts the unsigned-note reminder and takes the encounter off the open list. */
export function CloseCard({
  draft,
  signed,
  busy,
  onClose,
  onReopen,
}: {
  draft: EncounterDraft;
  signed: boolean;
  busy: boolean;
  onClose: () => void;
  onReopen: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const closed = draft.closed_at !== null;
  const confirmed = closed && draft.queued.closed === true;
  return (
    <section class="card" aria-labelledby="close-title">
      <h2 id="close-title">Encounter</h2>
      {closed ? (
        <>
          <p data-testid="encounter-closed">
            Closed {formatDayTime(draft.closed_at as string)}
            {!confirmed && <span class="muted"> · not confirmed by the server yet</span>}
          </p>
          <button type="button" class="btn btn-secondary" disabled={busy} onClick={onReopen}>
            Reopen encounter
          </button>
        </>
      ) : asking ? (
        <div role="group" aria-label="Close this encounter?">
          <p>Close this encounter now? It leaves the list of open encounters.</p>
          {!signed && <p class="notice">The note is not signed yet: you will be reminded to sign it.</p>}
          <div class="dialog-actions">
            <button type="button" class="btn btn-secondary" onClick={() => setAsking(false)}>
              Cancel
            </button>
            <button
              type="button"
              class="btn btn-primary"
              disabled={busy}
              onClick={() => {
                setAsking(false);
                onClose();
              }}
            >
              Close now
            </button>
          </div>
        </div>
      ) : (
        <>
          <p class="muted">Open since {formatDayTime(draft.started_at)}.</p>
          <button type="button" class="btn btn-secondary" disabled={busy} onClick={() => setAsking(true)}>
            Close encounter…
          </button>
        </>
      )}
    </section>
  );
}
