import { useEffect, useState } from "preact/hooks";
import { ADDENDUM_KINDS, OFFICER_SECTION_FIELDS } from "../../generated/clinical";
import { NOTE_FORMATS, SAFETY_PRECAUTION_LABELS, SAFETY_PRECAUTIONS, SECTION_LABELS } from "../../generated/notes";
import { REFERRAL_STATUSES } from "../../generated/referrals";
import { NetworkError, type Me } from "../../lib/api";
import { DISPOSITIONS, IVC_OUTCOMES, IVC_PATHWAYS, REFERRAL_TYPES, clinicalApi, type ServerEncounter, type ServerNote } from "../../lib/clinical";
import { QUESTION_TEXT, QUESTIONS, RISK_LABEL, type Risk } from "../../lib/cssrs";
import { FORMAT_SECTIONS, SAFETY_PLAN_PARTS, seenGet, seenPut } from "../../lib/drafts";
import { formatDayTime } from "../../lib/time";

const label = (list: readonly (readonly [string, string])[], value: string | null | undefined) => (value ? (list.find(([k]) => k === value)?.[1] ?? value) : "");

/**
 * A signed note as a printable record: who signed and when (America/New_York), the co-signature, the
 * content-hash check, every section of the encounter the reader may see, and the addenda. The server
 * cuts the payload to the reader's categories, so the Part 2 section appears only for those allowed.
 */
export function PrintView({ me, encounterId }: { me: Me; encounterId: string }) {
  const [enc, setEnc] = useState<ServerEncounter | null>(null);
  const [stale, setStale] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    clinicalApi
      .encounter(encounterId)
      .then(async (e) => {
        await seenPut(me.id, encounterId, e);
        if (alive) setEnc(e);
      })
      .catch(async (e: unknown) => {
        const cached = await seenGet<ServerEncounter>(me.id, encounterId).catch(() => undefined);
        if (!alive) return;
        if (cached) {
          setEnc(cached);
          setStale(true);
        } else setError(e instanceof NetworkError ? "Offline, and this encounter is not on this device." : e instanceof Error ? e.message : "Could not load.");
      });
    return () => {
      alive = false;
    };
  }, [encounterId, me.id]);

  if (error) {
    return (
      <section class="card">
        <h1 tabIndex={-1}>Printable record</h1>
        <p role="alert" class="form-error">
          {error}
        </p>
      </section>
    );
  }
  if (!enc) return <p aria-busy="true">Loading the record…</p>;
  const signedNotes = (enc.notes ?? []).filter((n) => n.status === "signed");
  const plan = [...(enc.safety_plans ?? [])].sort((a, b) => String(b.created_at ?? "").localeCompare(String(a.created_at ?? "")))[0];
  const screen = enc.screens?.[enc.screens.length - 1];
  const person = enc.person;

  return (
    <article class="print-record" aria-labelledby="page-title">
      <div class="no-print print-tools">
        <a class="btn btn-secondary" href={`/encounters/${enc.id}`}>
          Back to the encounter
        </a>
        <button type="button" class="btn btn-primary" disabled={signedNotes.length === 0} onClick={() => window.print()}>
          Print
        </button>
      </div>
      {stale && <p class="notice no-print">Shown from this device: the server could not be reached.</p>}
      <h1 id="page-title" tabIndex={-1}>
        Clinical record{person ? ` · ${person.first_name} ${person.last_name}`.trimEnd() : ""}
      </h1>
      <p class="print-confidential">Confidential health information. Do not share beyond treatment without consent.</p>
      <dl class="facts">
        {person && (
          <div>
            <dt>Person</dt>
            <dd>
              {person.first_name} {person.last_name}
              {person.date_of_birth ? `, born ${person.date_of_birth}` : ""}
            </dd>
          </div>
        )}
        <div>
          <dt>Encounter</dt>
          <dd>
            {label([["incident", "Incident response"], ["walk_in", "Walk-in"], ["follow_up", "Follow-up"]], enc.kind)}
            {enc.team ? ` · team ${enc.team}` : ""}
            {enc.started_at ? ` · started ${formatDayTime(enc.started_at)}` : ""}
            {enc.closed_at ? ` · closed ${formatDayTime(enc.closed_at)}` : " · open"}
          </dd>
        </div>
      </dl>

      {signedNotes.length === 0 && <p class="notice">No signed note yet: only a signed note is printed.</p>}
      {signedNotes.map((n) => (
        <NoteRecord note={n} key={n.id} />
      ))}

      {screen && (
        <section aria-labelledby="p-cssrs">
          <h2 id="p-cssrs">C-SSRS screen</h2>
          <p>
            <strong>{RISK_LABEL[screen.final_risk as Risk] ?? screen.final_risk}</strong>
            {screen.override_risk ? ` (raised from ${RISK_LABEL[screen.computed_risk as Risk]}: ${screen.override_reason})` : ""}
            {screen.screened_at ? ` · ${formatDayTime(screen.screened_at)}` : ""}
          </p>
          <ul>
            {QUESTIONS.filter((q) => screen[q] !== null && screen[q] !== undefined).map((q) => (
              <li key={q}>
                {QUESTION_TEXT[q]} <strong>{screen[q] ? "Yes" : "No"}</strong>
              </li>
            ))}
          </ul>
        </section>
      )}

      {plan && (
        <section aria-labelledby="p-plan">
          <h2 id="p-plan">Safety plan (Stanley–Brown)</h2>
          <dl class="facts">
            {SAFETY_PLAN_PARTS.map(([k, l]) => (
              <div key={k}>
                <dt>{l}</dt>
                <dd>{plan[k] || "—"}</dd>
              </div>
            ))}
            <div>
              <dt>Lethal means counselling done</dt>
              <dd>{plan.lethal_means_counselling_done ? "Yes" : "No"}</dd>
            </div>
          </dl>
        </section>
      )}

      {(enc.dispositions ?? []).length > 0 && (
        <section aria-labelledby="p-disp">
          <h2 id="p-disp">Dispositions</h2>
          <ul>
            {(enc.dispositions ?? []).map((d) => (
              <li key={d.id}>
                {label(DISPOSITIONS, d.code)}
                {d.apco_code ? ` (APCO ${d.apco_code})` : ""}
              </li>
            ))}
          </ul>
        </section>
      )}

      {(enc.referrals ?? []).length > 0 && (
        <section aria-labelledby="p-ref">
          <h2 id="p-ref">Referrals</h2>
          <ul>
            {(enc.referrals ?? []).map((r) => (
              <li key={r.id}>
                {r.restricted ? (
                  "A referral restricted under 42 CFR Part 2."
                ) : (
                  <>
                    {label(REFERRAL_TYPES, r.type)}
                    {r.agency ? ` · ${r.agency.name}${r.agency.phone ? ` (${r.agency.phone})` : ""}` : ""} · {label(REFERRAL_STATUSES, r.status)}
                    {r.notes ? <p class="referral-notes">{r.notes}</p> : null}
                  </>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}

      {enc.ivc && (
        <section aria-labelledby="p-ivc">
          <h2 id="p-ivc">Involuntary commitment</h2>
          <dl class="facts">
            <div>
              <dt>Pathway</dt>
              <dd>{label(IVC_PATHWAYS, enc.ivc.pathway)}</dd>
            </div>
            {(
              [
                ["petition_at", "Petition filed"],
                ["custody_order_at", "Custody order issued"],
                ["custody_taken_at", "Custody taken"],
                ["first_exam_at", "First examination"],
              ] as const
            ).map(([k, l]) =>
              enc.ivc?.[k] ? (
                <div key={k}>
                  <dt>{l}</dt>
                  <dd>{formatDayTime(enc.ivc[k] as string)}</dd>
                </div>
              ) : null,
            )}
            <div>
              <dt>Outcome</dt>
              <dd>{label(IVC_OUTCOMES, enc.ivc.outcome)}</dd>
            </div>
          </dl>
        </section>
      )}

      {enc.officer_section && (
        <section aria-labelledby="p-officer">
          <h2 id="p-officer">Officer section</h2>
          <dl class="facts">
            {OFFICER_SECTION_FIELDS.map((f) => {
              const v = (enc.officer_section as Record<string, unknown>)[f.name];
              if (f.kind !== "boolean" && !v) return null;
              const shown = f.kind === "boolean" ? (v ? "Yes" : "No") : f.kind === "choice" ? (f.choices.find((c) => c.value === v)?.label ?? String(v)) : String(v);
              return (
                <div key={f.name}>
                  <dt>{f.label}</dt>
                  <dd>{shown}</dd>
                </div>
              );
            })}
          </dl>
        </section>
      )}

      <p class="print-footer">
        Printed by {me.full_name} · {formatDayTime(new Date().toISOString())}
      </p>
    </article>
  );
}

function NoteRecord({ note }: { note: ServerNote }) {
  const format = note.format as keyof typeof FORMAT_SECTIONS;
  return (
    <section class="print-note" aria-labelledby={`p-note-${note.id}`} data-note={note.id}>
      <h2 id={`p-note-${note.id}`}>{label(NOTE_FORMATS, note.format)} note</h2>
      <p class="print-signature" data-testid="print-signature">
        Signed by <strong>{note.signed_by_name}</strong> on {note.signed_at ? formatDayTime(note.signed_at) : "—"}
        {note.cosigned_at ? (
          <>
            {" · "}co-signed by <strong>{note.cosigned_by_name}</strong> on {formatDayTime(note.cosigned_at)}
          </>
        ) : (
          " · not co-signed"
        )}
      </p>
      <p class="muted">
        Content hash {note.content_hash.slice(0, 12)}… · {note.integrity_ok === false ? "DOES NOT MATCH the signed content" : "matches the signed content"}
      </p>
      {(FORMAT_SECTIONS[format] ?? []).map((s) => (
        <div class="print-section" key={s}>
          <h3>{SECTION_LABELS[s] ?? s}</h3>
          <p>{note.sections?.[s] || "—"}</p>
        </div>
      ))}
      {(note.diagnoses ?? []).length > 0 && (
        <div class="print-section">
          <h3>Diagnoses</h3>
          <p>{(note.diagnoses ?? []).join("; ")}</p>
        </div>
      )}
      {(note.medications ?? []).length > 0 && (
        <div class="print-section">
          <h3>Medications</h3>
          <p>{(note.medications ?? []).join("; ")}</p>
        </div>
      )}
      <div class="print-section">
        <h3>Safety precautions</h3>
        <ul>
          {SAFETY_PRECAUTIONS.map((k) => (
            <li key={k}>
              {SAFETY_PRECAUTION_LABELS[k]}: {note.safety_precautions[k] ? "confirmed" : "not confirmed"}
            </li>
          ))}
        </ul>
      </div>
      {note.substance_use && (
        <div class="print-section print-part2" data-testid="print-part2">
          <h3>Substance use (42 CFR Part 2)</h3>
          <p class="print-part2-label">{note.substance_use.label}</p>
          <p>{note.substance_use.text || "—"}</p>
        </div>
      )}
      {(note.addenda ?? []).length > 0 && (
        <div class="print-section">
          <h3>Addenda</h3>
          <ul>
            {(note.addenda ?? []).map((a) => (
              <li key={a.id}>
                <strong>{label(ADDENDUM_KINDS, a.kind)}</strong> by {a.author_name}
                {a.created_at ? ` on ${formatDayTime(a.created_at)}` : ""}. Reason: {a.reason}
                <p>{a.text}</p>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
