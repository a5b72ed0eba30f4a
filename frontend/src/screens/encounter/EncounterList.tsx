import { useEffect, useState } from "preact/hooks";
import { NetworkError, type Me } from "../../lib/api";
import { clinicalApi, type EncounterRow } from "../../lib/clinical";
import { draftList, type EncounterDraft } from "../../lib/drafts";
import { isClinical } from "../../lib/roles";
import { formatDayTime } from "../../lib/time";
import { cachePut } from "../../lib/userdata";

/** Drafts on this device and the open encounters the person may see (summaries, no narrative). */
export function EncounterList({ me }: { me: Me }) {
  const clinical = isClinical(me);
  const [drafts, setDrafts] = useState<EncounterDraft[]>([]);
  const [rows, setRows] = useState<EncounterRow[] | null>(null);
  const [closed, setClosed] = useState<EncounterRow[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (clinical) {
      void draftList(me.id).then((d) => setDrafts(d.sort((a, b) => b.updated_at.localeCompare(a.updated_at))));
      // Keep the agency directory on the device, so a referral can name an agency offline.
      clinicalApi
        .agencies()
        .then((r) => cachePut(me.id, "agencies", r.results))
        .catch(() => undefined);
    }
    if (clinical) {
      clinicalApi
        .recentEncounters()
        .then((r) => setClosed(r.results.filter((e) => e.closed_at).slice(0, 20)))
        .catch(() => undefined);
    }
    clinicalApi
      .openEncounters()
      .then((r) => setRows(r.results))
      .catch((e: unknown) => setError(e instanceof NetworkError ? "Offline: open encounters on the server cannot be listed." : e instanceof Error ? e.message : "Could not load."));
  }, [me.id, clinical]);

  // A draft leaves "on this device" once it is closed and nothing of it waits to be sent.
  const shown = drafts.filter((d) => d.unsynced || d.closed_at === null || d.queued.closed !== true);
  const draftIds = new Set(shown.map((d) => d.id));
  const href = (id: string) => (clinical ? `/encounters/${id}` : `/encounters/${id}/officer`);
  return (
    <section class="card" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Encounters
      </h1>
      {clinical && (
        <p>
          <a class="btn btn-primary" href="/encounters/new">
            New encounter (walk-in)
          </a>
        </p>
      )}
      {clinical && shown.length > 0 && (
        <>
          <h2>On this device</h2>
          <ul class="enc-list">
            {shown.map((d) => (
              <li key={d.id}>
                <a href={href(d.id)}>
                  {d.person?.name || "Person not recorded"} · {formatDayTime(d.started_at)}
                </a>
                {d.unsynced && <span class="pill pill-off">not sent</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>Open encounters</h2>
      {error && <p class="notice">{error}</p>}
      {rows && rows.filter((r) => !draftIds.has(r.id)).length === 0 && <p class="empty">No other open encounters.</p>}
      {rows && (
        <ul class="enc-list">
          {rows
            .filter((r) => !draftIds.has(r.id))
            .map((r) => (
              <li key={r.id}>
                <a href={href(r.id)}>
                  {r.person?.name ?? "Encounter"} · {r.team ?? ""} {r.started_at ? formatDayTime(r.started_at) : ""}
                </a>
                {r.high_risk && <span class="pill pill-off">high risk</span>}
              </li>
            ))}
        </ul>
      )}
      {clinical && closed.length > 0 && (
        <>
          <h2>Closed recently</h2>
          <ul class="enc-list">
            {closed.map((r) => (
              <li key={r.id}>
                <a href={href(r.id)}>
                  {r.person?.name ?? "Encounter"} · {r.team ?? ""} {r.closed_at ? `closed ${formatDayTime(r.closed_at)}` : ""}
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
