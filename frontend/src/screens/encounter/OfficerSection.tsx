import { useEffect, useState } from "preact/hooks";
import { ApiError, NetworkError, type Me } from "../../lib/api";
import { POLICE_ACTIONS, TRANSPORTS, clinicalApi, type ServerEncounter, type ServerOfficerSection } from "../../lib/clinical";
import type { OutboxItem } from "../../lib/db";
import { markDirty } from "../../lib/dirty";
import { seenGet, seenPut } from "../../lib/drafts";
import { outbox } from "../../lib/session";
import { formatDayTime } from "../../lib/time";
import { useObservable } from "../../ui/hooks";

interface Form {
  police_action: string;
  use_of_force: boolean;
  use_of_force_description: string;
  subject_injured: boolean;
  officer_injured: boolean;
  injuries_description: string;
  transport: string;
  transport_destination: string;
  ivc_custody: boolean;
}

const EMPTY: Form = {
  police_action: "none",
  use_of_force: false,
  use_of_force_description: "",
  subject_injured: false,
  officer_injured: false,
  injuries_description: "",
  transport: "none",
  transport_destination: "",
  ivc_custody: false,
};

function fromServer(s: ServerOfficerSection | null | undefined): Form {
  if (!s) return { ...EMPTY };
  const f = { ...EMPTY };
  for (const k of Object.keys(EMPTY) as (keyof Form)[]) if (s[k] !== undefined && s[k] !== null) (f as Record<string, unknown>)[k] = s[k];
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

  function set<K extends keyof Form>(k: K, v: Form[K]) {
    setForm((f) => ({ ...f, [k]: v }));
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
        <div class="field">
          <label for="police-action">Police action</label>
          <select id="police-action" value={form.police_action} onChange={(e) => set("police_action", e.currentTarget.value)}>
            {POLICE_ACTIONS.map(([k, l]) => (
              <option value={k} key={k}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <label class="check">
          <input type="checkbox" checked={form.use_of_force} onChange={(e) => set("use_of_force", e.currentTarget.checked)} />
          Use of force
        </label>
        {form.use_of_force && (
          <div class="field">
            <label for="uof-desc">Use of force: what happened</label>
            <textarea id="uof-desc" value={form.use_of_force_description} onInput={(e) => set("use_of_force_description", e.currentTarget.value)} />
          </div>
        )}
        <label class="check">
          <input type="checkbox" checked={form.subject_injured} onChange={(e) => set("subject_injured", e.currentTarget.checked)} />
          Subject injured
        </label>
        <label class="check">
          <input type="checkbox" checked={form.officer_injured} onChange={(e) => set("officer_injured", e.currentTarget.checked)} />
          Officer injured
        </label>
        {(form.subject_injured || form.officer_injured) && (
          <div class="field">
            <label for="inj-desc">Injuries</label>
            <textarea id="inj-desc" value={form.injuries_description} onInput={(e) => set("injuries_description", e.currentTarget.value)} />
          </div>
        )}
        <div class="field">
          <label for="transport">Transport</label>
          <select id="transport" value={form.transport} onChange={(e) => set("transport", e.currentTarget.value)}>
            {TRANSPORTS.map(([k, l]) => (
              <option value={k} key={k}>
                {l}
              </option>
            ))}
          </select>
        </div>
        {form.transport !== "none" && (
          <div class="field">
            <label for="transport-dest">Transport destination</label>
            <input id="transport-dest" value={form.transport_destination} onInput={(e) => set("transport_destination", e.currentTarget.value)} />
          </div>
        )}
        <label class="check">
          <input type="checkbox" checked={form.ivc_custody} onChange={(e) => set("ivc_custody", e.currentTarget.checked)} />
          IVC custody taken by police
        </label>
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
