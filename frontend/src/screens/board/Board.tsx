import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, NetworkError, api } from "../../lib/api";
import { inTopics } from "../../lib/events";
import { onServerEvent } from "../../lib/session";
import { formatDayTime } from "../../lib/time";
import { TeamsCard } from "../dispatch/DispatchConsole";
import type { Me } from "../../lib/api";
import { EMPTY_LIVE, ageText, applyBoardEvent, applyDispatchEvent, deliveryOf, loadDeliveryBoard, waitingText, type BoardIncident, type DispatchLive, type OnDutyTeam } from "../dispatch/model";
import { UnassignedAlerts } from "../dispatch/Unassigned";
import { ReachList } from "../dispatch/Reach";
import { STATUS_LABEL, callTypeLabel, safetyFlags } from "../team/assignment";

interface OverdueFollowUp {
  id: number;
  due_at: string;
  status: string;
  assignee?: { id: number; name: string };
}

/** null = the section is hidden (endpoint missing or not for this role). */
type Section<T> = { state: "loading" } | { state: "hidden"; why: string } | { state: "ok"; rows: T } | { state: "error"; message: string };

async function load<T>(url: string): Promise<Section<T>> {
  try {
    return { state: "ok", rows: await api<T>(url) };
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return { state: "hidden", why: e.message };
    if (e instanceof NetworkError) return { state: "error", message: "No connection to the server." };
    return { state: "error", message: e instanceof Error ? e.message : "Could not load." };
  }
}

function teamPeople(teams: Section<OnDutyTeam[]>, teamId: number): { id: number; name: string }[] {
  if (teams.state !== "ok") return [];
  return teams.rows.find((t) => t.team.id === teamId)?.members.map((m) => ({ id: m.id, name: m.full_name })) ?? [];
}

/** Supervisor board: every team's live status, open incidents, overdue follow-ups (if available). */
export function Board({ me }: { me: Pick<Me, "is_staff"> }) {
  const [teams, setTeams] = useState<Section<OnDutyTeam[]>>({ state: "loading" });
  const [incidents, setIncidents] = useState<Section<{ results: BoardIncident[] }>>({ state: "loading" });
  const [overdue, setOverdue] = useState<Section<{ count: number; results: OverdueFollowUp[] }>>({ state: "loading" });
  // Per offer: delivered / seen per device, and which stage (push, SMS, call, reply) reached each member.
  const [live, setLive] = useState<DispatchLive>(EMPTY_LIVE);

  const reload = useCallback(async () => {
    const [t, i, o, d] = await Promise.all([
      load<OnDutyTeam[]>("/api/v1/teams/on-duty/"),
      load<{ results: BoardIncident[] }>("/api/v1/incidents/board/?page_size=200"),
      load<{ count: number; results: OverdueFollowUp[] }>("/api/v1/followups/overdue/"),
      load<Array<Record<string, unknown>>>("/api/v1/delivery/board/"),
    ]);
    setTeams(t);
    setIncidents(i);
    setOverdue(o);
    if (d.state === "ok") setLive((l) => loadDeliveryBoard(l, d.rows));
  }, []);

  useEffect(() => {
    void reload();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsub = onServerEvent((event) => {
      setLive((l) => applyDispatchEvent(l, event));
      // Status, team and the unassigned-call alert at once; the reload settles the rest.
      setIncidents((cur) => (cur.state === "ok" ? { state: "ok", rows: { ...cur.rows, results: applyBoardEvent(cur.rows.results, event) } } : cur));
      if (!inTopics(event, ["incident", "assignment", "shift", "team", "followup"])) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void reload(), 250);
    });
    const poll = setInterval(() => void reload(), 60_000); // ages and overdue counts move with time
    return () => {
      unsub();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    };
  }, [reload]);

  const open = incidents.state === "ok" ? incidents.rows.results : [];

  return (
    <div class="board">
      <h1 id="page-title" tabIndex={-1}>
        Board
      </h1>
      {me.is_staff && (
        <p class="admin-link">
          Teams, shifts and people are managed in the{" "}
          <a href="/admin/" data-native>
            admin
          </a>{" "}
          (<a href="/admin/shifts/shift/" data-native>shifts</a>, <a href="/admin/teams/team/" data-native>teams</a>).
        </p>
      )}
      <UnassignedAlerts incidents={open} />
      {teams.state === "ok" ? (
        <TeamsCard teams={teams.rows} incidents={open} />
      ) : (
        <section class="card">
          <h2>Teams on duty</h2>
          <p class="muted">{teams.state === "loading" ? "Loading…" : teams.state === "hidden" ? "Not available for your role." : teams.message}</p>
        </section>
      )}
      <section class="card" aria-labelledby="open-title">
        <h2 id="open-title">Open incidents</h2>
        {incidents.state === "loading" && <p>Loading…</p>}
        {incidents.state === "hidden" && <p class="muted">Not available for your role.</p>}
        {incidents.state === "error" && <p role="alert">{incidents.message}</p>}
        {incidents.state === "ok" &&
          (open.length === 0 ? (
            <p class="empty">No open incidents.</p>
          ) : (
            <table class="board-table">
              <thead>
                <tr>
                  <th scope="col">Priority</th>
                  <th scope="col">Call</th>
                  <th scope="col">Age</th>
                  <th scope="col">Team and status</th>
                </tr>
              </thead>
              <tbody>
                {open.map((i) => (
                  <tr key={i.id}>
                    <td>P{i.priority}</td>
                    <td>
                      #{i.id} {callTypeLabel(i.call_type_code, i.call_type_description)} {i.address ?? ""}
                      {safetyFlags(i).length > 0 && <span class="flag"> ⚠ {safetyFlags(i).join(", ")}</span>}
                    </td>
                    <td>{ageText(i.age_seconds ?? 0)}</td>
                    <td>
                      {i.assignment ? `${i.assignment.team.call_sign}: ${STATUS_LABEL[i.assignment.status] ?? i.assignment.status}` : "Unassigned"}
                      {i.unassigned_alert && <strong class="flag"> ({waitingText(i.unassigned_alert)})</strong>}
                      {i.assignment && (
                        <ReachList delivery={deliveryOf(live, i.assignment.id)} people={teamPeople(teams, i.assignment.team.id)} />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </section>
      {overdue.state !== "hidden" && (
        <section class="card" aria-labelledby="overdue-title">
          <h2 id="overdue-title">Overdue follow-ups{overdue.state === "ok" ? ` (${overdue.rows.count})` : ""}</h2>
          {overdue.state === "loading" && <p>Loading…</p>}
          {overdue.state === "error" && <p role="alert">{overdue.message}</p>}
          {overdue.state === "ok" &&
            (overdue.rows.results.length === 0 ? (
              <p class="empty">No overdue follow-ups.</p>
            ) : (
              <ul class="overdue-list">
                {overdue.rows.results.map((f) => (
                  <li key={f.id}>
                    Follow-up #{f.id}: due {formatDayTime(f.due_at)}
                    {f.assignee ? ` · ${f.assignee.name}` : ""}
                  </li>
                ))}
              </ul>
            ))}
        </section>
      )}
    </div>
  );
}
