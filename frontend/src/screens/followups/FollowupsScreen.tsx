import "../encounter/encounter.css";
import { useEffect, useState } from "preact/hooks";
import { CONTACT_CONSENT, PREFERRED_CONTACT } from "../../generated/clinical";
import { FOLLOWUP_REASONS, REFERRAL_STATUSES, type FollowupBucket } from "../../generated/referrals";
import { NetworkError, type Me } from "../../lib/api";
import { ATTEMPT_METHODS, ATTEMPT_OUTCOMES, REFERRAL_TYPES, clinicalApi, type FollowUp } from "../../lib/clinical";
import type { OutboxItem } from "../../lib/db";
import { outbox } from "../../lib/session";
import { formatDayTime } from "../../lib/time";
import { cacheGet, cachePut } from "../../lib/userdata";
import { useObservable } from "../../ui/hooks";

/** The server's buckets (generated FollowupBucket), in the order shown. */
const BUCKETS: [FollowupBucket, string][] = [
  ["overdue", "Overdue"],
  ["due_today", "Due today"],
  ["upcoming", "Upcoming"],
];

type Lists = Record<string, FollowUp[]>;

export function attemptUrl(id: number): string {
  return `/api/v1/followups/${id}/attempts/`;
}

/** The care-navigation queue; an attempt is logged in two taps and queued offline. */
export function FollowupsScreen({ me }: { me: Me }) {
  const [lists, setLists] = useState<Lists | null>(null);
  const [stale, setStale] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [items, setItems] = useState<OutboxItem[]>([]);
  const version = useObservable(outbox.version);
  const cacheKey = "followups";

  async function load() {
    try {
      const entries = await Promise.all(BUCKETS.map(async ([b]) => [b, (await clinicalApi.followups(b, true)).results] as const));
      const next = Object.fromEntries(entries) as Lists;
      setLists(next);
      setStale(false);
      setError(null);
      await cachePut(me.id, cacheKey, next);
    } catch (e) {
      const cached = await cacheGet<Lists>(me.id, cacheKey).catch(() => undefined);
      if (cached) {
        setLists(cached);
        setStale(true);
      }
      if (!(e instanceof NetworkError)) setError(e instanceof Error ? e.message : "Could not load the follow-ups.");
      else if (!cached) setError("Offline, and no follow-ups are saved on this device yet.");
    }
  }

  useEffect(() => {
    void load();
  }, [me.id]);

  useEffect(() => {
    void outbox.list().then((all) => setItems(all.filter((i) => /\/api\/v1\/followups\/\d+\/attempts\/$/.test(i.url))));
  }, [version]);

  // Refresh once our attempts have gone through (a reached/linked/declined one leaves the queue).
  const pendingCount = items.filter((i) => i.status === "pending").length;
  const [lastPending, setLastPending] = useState(0);
  useEffect(() => {
    if (lastPending > 0 && pendingCount === 0) void load();
    setLastPending(pendingCount);
  }, [pendingCount]);

  return (
    <section class="card" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Follow-ups
      </h1>
      {stale && <p class="notice">Shown from this device: the server could not be reached.</p>}
      {error && (
        <p role="alert" class="form-error">
          {error}
        </p>
      )}
      {!lists && !error && <p aria-busy="true">Loading…</p>}
      {lists &&
        BUCKETS.map(([b, label]) => (
          <section class="fu-bucket" aria-labelledby={`b-${b}`} key={b}>
            <h2 id={`b-${b}`}>
              {label} <span class="muted">({lists[b]?.length ?? 0})</span>
            </h2>
            {(lists[b] ?? []).length === 0 ? (
              <p class="empty">None.</p>
            ) : (
              <ul class="fu-list">
                {(lists[b] ?? []).map((f) => (
                  <FollowUpRow key={f.id} f={f} overdue={b === "overdue"} items={items.filter((i) => i.url === attemptUrl(f.id))} />
                ))}
              </ul>
            )}
          </section>
        ))}
    </section>
  );
}

const CALL_WORD: Record<string, string> = { call: "Call", text: "Text", visit: "Visit" };

function FollowUpRow({ f, overdue, items }: { f: FollowUp; overdue: boolean; items: OutboxItem[] }) {
  const [open, setOpen] = useState(false);
  const [method, setMethod] = useState(f.person?.preferred_contact === "text" ? "text" : f.person?.preferred_contact === "visit" ? "visit" : "phone");
  const [note, setNote] = useState("");
  const ref = f.referral;
  const typeLabel = label(REFERRAL_TYPES, ref?.type ?? f.referral_type ?? null);

  async function log(outcome: string) {
    const body: Record<string, unknown> = { method, outcome, at: new Date().toISOString() };
    if (note.trim()) body.note = note.trim();
    // Each attempt is its own event: one refused never settles another (outbox key).
    await outbox.enqueue({ method: "POST", url: attemptUrl(f.id), body, label: `Follow-up attempt: ${outcome.replace(/_/g, " ")}`, key: `attempt ${crypto.randomUUID()}` });
    setOpen(false);
    setNote("");
  }

  const pending = items.filter((i) => i.status === "pending");
  const rejected = items.filter((i) => i.status === "rejected");
  const person = f.person;
  const name = person?.name ?? "Person";
  const attempts = f.attempts ?? [];
  return (
    <li class={`fu-item ${overdue ? "fu-overdue" : ""}`} data-followup={f.id}>
      <h3 class="fu-name">{name}</h3>
      <p class="muted">
        Due {formatDayTime(String(f.due_at))}
        {f.reason ? ` · ${label(FOLLOWUP_REASONS, f.reason)}` : ""}
        {f.failed_attempts > 0 ? ` · ${f.failed_attempts} failed attempt${f.failed_attempts === 1 ? "" : "s"}` : ""}
      </p>
      <div class="fu-contact" data-testid="fu-contact">
        {person?.phone ? (
          <p>
            <a class="btn btn-secondary fu-call" href={`${person.preferred_contact === "text" ? "sms" : "tel"}:${person.phone}`} data-native>
              {CALL_WORD[person.preferred_contact] ?? "Call"} {person.phone}
            </a>
          </p>
        ) : (
          <p>No phone number on record.</p>
        )}
        {person && (
          <p class="muted">
            Prefers: {label(PREFERRED_CONTACT, person.preferred_contact)} · Consent: {label(CONTACT_CONSENT, person.contact_consent)}
          </p>
        )}
        {person?.contact_consent === "no" && (
          <p class="notice" role="note">
            This person does not want to be contacted. Record the follow-up without calling.
          </p>
        )}
      </div>
      {f.restricted ? (
        <p class="muted">Referral details are restricted (42 CFR Part 2).</p>
      ) : ref ? (
        <div class="fu-referral">
          <p>
            <strong>Referral:</strong> {typeLabel}
            {ref.agency ? ` · ${ref.agency.name}` : ""}
            {ref.agency?.phone && (
              <>
                {" · "}
                <a href={`tel:${ref.agency.phone}`} data-native>
                  {ref.agency.phone}
                </a>
              </>
            )}
            {` · ${label(REFERRAL_STATUSES, ref.status)}`}
          </p>
          {ref.notes && <p class="referral-notes">{ref.notes}</p>}
        </div>
      ) : null}
      <div class="fu-attempts">
        <h4>Attempts</h4>
        {attempts.length === 0 ? (
          <p class="muted">None yet.</p>
        ) : (
          <ol>
            {attempts.map((a) => (
              <li key={a.id}>
                {formatDayTime(String(a.at))} · {label(ATTEMPT_METHODS, a.method)} · <strong>{label(ATTEMPT_OUTCOMES, a.outcome)}</strong> · {a.by.name}
                {a.note ? <span class="muted"> — {a.note}</span> : null}
              </li>
            ))}
          </ol>
        )}
      </div>
      {pending.map((i) => (
        <p class="notice" key={i.id}>
          {i.label}: saved, sending…
        </p>
      ))}
      {rejected.map((i) => (
        <p class="form-error" role="alert" key={i.id}>
          {i.label} not accepted: {i.last_error}{" "}
          <button type="button" class="btn btn-secondary" onClick={() => i.seq !== undefined && void outbox.discard(i.seq)}>
            Dismiss
          </button>
        </p>
      ))}
      {!open ? (
        <button type="button" class="btn btn-primary" onClick={() => setOpen(true)} aria-label={`Log attempt for ${name}`}>
          Log attempt
        </button>
      ) : (
        <div class="attempt" role="group" aria-label={`Attempt outcome for ${name}`}>
          <div class="outcomes">
            {ATTEMPT_OUTCOMES.map(([k, l]) => (
              <button type="button" class="btn btn-secondary" key={k} onClick={() => void log(k)}>
                {l}
              </button>
            ))}
          </div>
          <details>
            <summary>Method ({ATTEMPT_METHODS.find(([k]) => k === method)?.[1]}) and note</summary>
            <label for={`m-${f.id}`}>Method</label>
            <select id={`m-${f.id}`} value={method} onChange={(e) => setMethod(e.currentTarget.value)}>
              {ATTEMPT_METHODS.map(([k, l]) => (
                <option value={k} key={k}>
                  {l}
                </option>
              ))}
            </select>
            <label for={`n-${f.id}`}>Note</label>
            <textarea id={`n-${f.id}`} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </details>
          <button type="button" class="btn btn-secondary" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </div>
      )}
    </li>
  );
}

function label(list: readonly (readonly [string, string])[], value: string | null | undefined): string {
  return value ? (list.find(([k]) => k === value)?.[1] ?? value.replace(/_/g, " ")) : "";
}
