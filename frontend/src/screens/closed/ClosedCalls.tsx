import { useEffect, useState } from "preact/hooks";
import type { ClosedIncidentOutput, TimelineOutput } from "../../generated/api";
import { DISPOSITIONS } from "../../generated/clinical";
import { ApiError, NetworkError, api } from "../../lib/api";
import { formatDayTime } from "../../lib/time";
import { callTypeLabel, incidentStatusLabel } from "../team/assignment";

const PAGE_SIZE = 25;

interface Search {
  date_from: string;
  date_to: string;
  cad_number: string;
  address: string;
  team: string;
  disposition: string;
}

const EMPTY: Search = { date_from: "", date_to: "", cad_number: "", address: "", team: "", disposition: "" };

interface Page {
  count: number;
  results: ClosedIncidentOutput[];
}

/** The query string of a search (empty fields left out) and its page. */
export function closedQuery(search: Search, page: number): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(search)) if (v.trim()) q.set(k, v.trim());
  q.set("page", String(page));
  q.set("page_size", String(PAGE_SIZE));
  return q.toString();
}

function errorOf(e: unknown): { text: string; fields: Record<string, string[]> } {
  if (e instanceof NetworkError) return { text: "No connection to the server. Try again when back online.", fields: {} };
  if (e instanceof ApiError) return { text: e.message, fields: e.fieldErrors };
  return { text: "Something went wrong.", fields: {} };
}

/** Closed calls for dispatchers and supervisors: search by day, CAD number, address, team, disposition. */
export function ClosedCalls() {
  const [form, setForm] = useState<Search>(EMPTY);
  const [search, setSearch] = useState<Search>(EMPTY);
  const [page, setPage] = useState(1);
  const [data, setData] = useState<Page | null>(null);
  const [error, setError] = useState<{ text: string; fields: Record<string, string[]> } | null>(null);
  const [open, setOpen] = useState<number | null>(null);

  useEffect(() => {
    let alive = true;
    setError(null);
    api<Page>(`/api/v1/incidents/closed/?${closedQuery(search, page)}`)
      .then((p) => alive && setData(p))
      .catch((e) => alive && setError(errorOf(e)));
    return () => {
      alive = false;
    };
  }, [search, page]);

  const set = (k: keyof Search) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const pages = data ? Math.max(1, Math.ceil(data.count / PAGE_SIZE)) : 1;
  const fieldError = (k: keyof Search) =>
    error?.fields[k] ? (
      <p id={`closed-${k}-error`} class="field-error">
        {error.fields[k]!.join(" ")}
      </p>
    ) : null;
  const aria = (k: keyof Search) => (error?.fields[k] ? { "aria-invalid": "true" as const, "aria-describedby": `closed-${k}-error` } : {});

  return (
    <div class="closed">
      <h1 id="page-title" tabIndex={-1}>
        Closed calls
      </h1>
      <section class="card" aria-labelledby="closed-search-title">
        <h2 id="closed-search-title">Search</h2>
        <form
          class="closed-search"
          onSubmit={(e) => {
            e.preventDefault();
            setPage(1);
            setSearch({ ...form });
          }}
        >
          <div class="field">
            <label for="closed-from">Received from</label>
            <input id="closed-from" type="date" value={form.date_from} onInput={set("date_from")} {...aria("date_from")} />
            {fieldError("date_from")}
          </div>
          <div class="field">
            <label for="closed-to">Received to</label>
            <input id="closed-to" type="date" value={form.date_to} onInput={set("date_to")} {...aria("date_to")} />
            {fieldError("date_to")}
          </div>
          <div class="field">
            <label for="closed-cad">CAD number</label>
            <input id="closed-cad" value={form.cad_number} onInput={set("cad_number")} {...aria("cad_number")} />
            {fieldError("cad_number")}
          </div>
          <div class="field">
            <label for="closed-address">Address</label>
            <input id="closed-address" value={form.address} onInput={set("address")} {...aria("address")} />
            {fieldError("address")}
          </div>
          <div class="field">
            <label for="closed-team">Team (call sign)</label>
            <input id="closed-team" value={form.team} placeholder="CR-1" onInput={set("team")} {...aria("team")} />
            {fieldError("team")}
          </div>
          <div class="field">
            <label for="closed-disposition">Disposition</label>
            <select id="closed-disposition" value={form.disposition} onChange={set("disposition")} {...aria("disposition")}>
              <option value="">Any</option>
              {DISPOSITIONS.map(([code, label]) => (
                <option key={code} value={code}>
                  {label}
                </option>
              ))}
            </select>
            {fieldError("disposition")}
          </div>
          <div class="form-actions">
            <button type="submit" class="btn btn-primary">
              Search
            </button>
            <button
              type="button"
              class="btn btn-secondary"
              onClick={() => {
                setForm(EMPTY);
                setPage(1);
                setSearch(EMPTY);
              }}
            >
              Clear
            </button>
          </div>
        </form>
      </section>
      <section class="card" aria-labelledby="closed-results-title" aria-busy={data === null && !error}>
        <h2 id="closed-results-title">{data ? `${data.count} closed call${data.count === 1 ? "" : "s"}` : "Closed calls"}</h2>
        {error && (
          <p class="notice notice-error" role="alert">
            {error.text}
          </p>
        )}
        {data === null && !error && <p>Loading…</p>}
        {data && data.results.length === 0 && <p class="empty">No closed call matches.</p>}
        {data && data.results.length > 0 && (
          <table class="closed-table">
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Call</th>
                <th scope="col">Team</th>
                <th scope="col">Disposition</th>
                <th scope="col">Timeline</th>
              </tr>
            </thead>
            <tbody>
              {data.results.map((i) => (
                <tr key={i.id} data-testid="closed-row">
                  <td>
                    {formatDayTime(i.received_at)}
                    {i.cad_number ? <span class="muted"> · {i.cad_number}</span> : null}
                  </td>
                  <td>
                    <strong>{callTypeLabel(i.call_type_code, i.call_type_description)}</strong> P{i.priority}
                    <br />
                    {i.address ?? ""} <span class="muted">· {incidentStatusLabel(i.status)}</span>
                  </td>
                  <td>{i.team?.call_sign ?? "No team"}</td>
                  <td>{i.dispositions.length ? i.dispositions.map((d) => d.label).join(", ") : <span class="muted">None recorded</span>}</td>
                  <td>
                    <button type="button" class="btn btn-secondary" aria-expanded={open === i.id} onClick={() => setOpen(open === i.id ? null : i.id)}>
                      {open === i.id ? "Hide" : "Show"}
                      <span class="visually-hidden"> the timeline of incident #{i.id}</span>
                    </button>
                    {open === i.id && <Timeline incidentId={i.id} />}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {data && pages > 1 && (
          <nav class="pager" aria-label="Pages">
            <button type="button" class="btn btn-secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>
              Previous
            </button>
            <span>
              Page {page} of {pages}
            </span>
            <button type="button" class="btn btn-secondary" disabled={page >= pages} onClick={() => setPage(page + 1)}>
              Next
            </button>
          </nav>
        )}
      </section>
    </div>
  );
}

function Timeline({ incidentId }: { incidentId: number }) {
  const [entries, setEntries] = useState<TimelineOutput[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    api<{ timeline: TimelineOutput[] }>(`/api/v1/incidents/${incidentId}/`)
      .then((d) => setEntries(d.timeline))
      .catch(() => setFailed(true));
  }, [incidentId]);
  if (failed) return <p role="alert">Could not load the timeline.</p>;
  if (!entries) return <p aria-busy="true">Loading…</p>;
  if (entries.length === 0) return <p class="muted">No timeline entries.</p>;
  return (
    <ol class="timeline">
      {entries.map((e, n) => (
        <li key={n}>
          <span class="muted">{formatDayTime(e.at)}</span> {e.text}
          {e.actor ? <span class="muted"> · {e.actor}</span> : null}
        </li>
      ))}
    </ol>
  );
}
