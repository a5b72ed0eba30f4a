import { useEffect, useState } from "preact/hooks";
import { ApiError, NetworkError, type Me } from "../../lib/api";
import { OFFICER_SECTION_FIELDS } from "../../generated/clinical";
import { clinicalApi, type ServerEncounter, type ServerOfficerSection } from "../../lib/clinical";
import type { OutboxItem } from "../../lib/db";
import { markDirty } from "../../lib/dirty";
import { seenGet, seenPut } from "../../lib/drafts";
import { outbox } from "../../lib/session";
import { formatDayTime } from "../../lib/time";
import { useObservable } from "../../ui/hooks";

type Field = (typeof OFFICER_SECTION_FIELDS)[number];
type FieldName = Field["name"];
/** A field's value: boolean, one of its choices, or text. */
type ValueOf<F extends Field> = F extends { kind: "boolean" } ? boolean : F extends { kind: "choice" } ? F["choices"][number]["value"] : string;
/** The officer section's editable fields, from the server's list (generated: make contracts). */
type Form = { [F in Field as F["name"]]: ValueOf<F> };

function emptyValue(f: Field): boolean | string {
  if (f.kind === "boolean") return false;
  if (f.kind === "choice") return f.choices[0].value; // the model's default ("none") comes first
  return "";
}

const EMPTY = Object.fromEntries(OFFICER_SECTION_FIELDS.map((f) => [f.name, emptyValue(f)])) as Form;

/** Follow-up fields shown only when they apply (the server asks for them then: services). */
const SHOWN_WHEN: Partial<Record<FieldName, (f: Form) => boolean>> = {
  use_of_force_description: (f) => f.use_of_force,
  injuries_description: (f) => f.subject_injured || f.officer_injured,
  transport_destination: (f) => f.transport !== "none",
};

function fromServer(s: ServerOfficerSection | null | undefined): Form {
  if (!s) return { ...EMPTY };
  const f = { ...EMPTY };
  for (const k of Object.keys(EMPTY) as FieldName[]) if (s[k] !== undefined && s[k] !== null) (f as Record<string, unknown>)[k] = s[k];
  return f;
}

/**
 * The officer's part of an encounter: police action, use of force and injuries, transport. The
 * server sends an officer only operational fields (never the clinical narrative); this screen
 * shows nothing else.
 */
export function OfficerSection({ me, encounterId }: { me: Me; encounterId: string }) {
  const [enc, setEnc] = useState<ServerEncounter | null>(null);
  const [form, setForm] = useState<Form>({ ...EMPTY });
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [items, setItems] = useState<OutboxItem[]>([]);
  const version = useObservable(outbox.version);
  const dirtyKey = `officer:${encounterId}`;
  const url = `/api/v1/clinical/encounters/${encounterId}/officer-section/`;

  async function load() {
    try {
      const e = await clinicalApi.encounter(encounterId);
      await seenPut(me.id, encounterId, e);
      setEnc(e);
      setForm(fromServer(e.officer_section));
    } catch (x) {
      if (x instanceof NetworkError) {
        const seen = await seenGet<ServerEncounter>(me.id, encounterId);
        if (seen) {
          setEnc(seen);
          setForm(fromServer(seen.officer_section));
        } else setError("Offline, and this encounter is not on this device.");
      } else setError(x instanceof ApiError && x.status === 404 ? "No encounter here, or it is not one you may open." : String(x));
    }
  }

  useEffect(() => {
    void load();
    return () => markDirty(dirtyKey, false);
  }, [encounterId]);

  useEffect(() => {
    void outbox.list().then((all) => setItems(all.filter((i) => i.url === url)));
  }, [version]);

  const pending = items.filter((i) => i.status === "pending").length;
  const rejected = items.filter((i) => i.status === "rejected");
  // Once our write went through, show the server's version (and its new revision).
  useEffect(() => {
    if (saved && pending === 0 && rejected.length === 0) void load();
  }, [pending]);

  function set(k: FieldName, v: boolean | string) {
    setForm((f) => ({ ...f, [k]: v }) as Form);
    markDirty(dirtyKey, true);
  }

  async function save(e: Event) {
    e.preventDefault();
    const rev = enc?.officer_section?.revision;
    const body: Record<string, unknown> = { ...form };
    if (rev) body.revision = rev;
    await outbox.enqueue({ method: "PUT", url, body, label: "Officer section" });
    markDirty(dirtyKey, false);
    setSaved(new Date().toISOString());
  }

  if (error) {
    return (
      <section class="card">
        <h1 tabIndex={-1}>Officer section</h1>
        <p role="alert" class="form-error">
          {error}
        </p>
      </section>
    );
  }
  if (!enc) return <p aria-busy="true">Opening…</p>;

  return (
    <section class="card" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Officer section
      </h1>
      <dl class="facts">
        {enc.team && (
          <div>
            <dt>Team</dt>
            <dd>{enc.team}</dd>
          </div>
        )}
        {enc.incident_id && (
          <div>
            <dt>Incident</dt>
            <dd>{enc.incident_id}</dd>
          </div>
        )}
        {enc.started_at && (
          <div>
            <dt>Started</dt>
            <dd>{formatDayTime(enc.started_at)}</dd>
          </div>
        )}
        {enc.person && (
          <div>
            <dt>Person</dt>
            <dd>
              {enc.person.first_name} {enc.person.last_name}
            </dd>
          </div>
        )}
        {enc.high_risk && (
          <div>
            <dt>Safety</dt>
            <dd>
              <span class="pill pill-off">High risk: stay with the clinician's plan</span>
            </dd>
          </div>
        )}
      </dl>
      <p class="hint">The clinical note is not shown to officers.</p>
      {rejected.map((i) => (
        <div role="alert" class="form-error" key={i.id}>
          Not accepted: {i.last_error}
          {i.last_status === 409 && " Someone else changed this section: it was reloaded; check it and save again."}
          {i.field_errors &&
            Object.entries(i.field_errors).map(([f, m]) => (
              <p key={f}>
                {f.replace(/_/g, " ")}: {m.join(" ")}
              </p>
            ))}
          <button
            type="button"
            class="btn btn-secondary"
            onClick={() => {
              if (i.seq !== undefined) void outbox.discard(i.seq);
              void load();
            }}
          >
            Dismiss
          </button>
        </div>
      ))}
      <form onSubmit={(e) => void save(e)}>
        {OFFICER_SECTION_FIELDS.filter((f) => SHOWN_WHEN[f.name]?.(form) ?? true).map((f) => (
          <OfficerField key={f.name} field={f} value={form[f.name]} onChange={(v) => set(f.name, v)} />
        ))}
        <div class="dialog-actions">
          <button type="submit" class="btn btn-primary">
            Save officer section
          </button>
        </div>
        {saved && <p role="status">{pending > 0 ? "Saved on this device, sending…" : rejected.length ? "Not accepted: see above." : "Saved."}</p>}
      </form>
    </section>
  );
}

/** One field of the officer section, drawn by its kind: select, checkbox, text area or one line. */
function OfficerField({ field: f, value, onChange }: { field: Field; value: boolean | string; onChange: (v: boolean | string) => void }) {
  const id = `officer-${f.name.replace(/_/g, "-")}`;
  if (f.kind === "boolean") {
    return (
      <label class="check">
        <input type="checkbox" checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} />
        {f.label}
      </label>
    );
  }
  return (
    <div class="field">
      <label for={id}>{f.label}</label>
      {f.kind === "choice" ? (
        <select id={id} value={String(value)} onChange={(e) => onChange(e.currentTarget.value)}>
          {f.choices.map((c) => (
            <option value={c.value} key={c.value}>
              {c.label}
            </option>
          ))}
        </select>
      ) : f.kind === "text" ? (
        <textarea id={id} value={String(value)} maxLength={f.max_length} onInput={(e) => onChange(e.currentTarget.value)} />
      ) : (
        <input id={id} value={String(value)} maxLength={f.max_length} onInput={(e) => onChange(e.currentTarget.value)} />
      )}
    </div>
  );
}
