import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { IncidentRecommendationsApiOutput } from "../../generated/api";
import { NOT_SERVED_REASONS, TEAM_STATUS_LABELS, TRIAGE_OUTCOMES } from "../../generated/incidents";
import { ApiError, NetworkError, api } from "../../lib/api";
import { inTopics } from "../../lib/events";
import { onServerEvent } from "../../lib/session";
import { formatDayTime } from "../../lib/time";
import { CALL_TYPES, STATUS_LABEL, callTypeLabel, incidentStatusLabel, isActive, safetyFlags } from "../team/assignment";
import {
  ALERT_TEXT,
  EMPTY_LIVE,
  ageText,
  applyAssignmentAnswer,
  applyBoardEvent,
  applyDispatchEvent,
  deliveryOf,
  loadDeliveryBoard,
  subjectAssignment,
  waitingText,
  teamReceipts,
  type AssignmentAnswer,
  type BoardIncident,
  type DispatchLive,
  type OnDutyTeam,
} from "./model";
import { ReachList } from "./Reach";
import { UnassignedAlerts } from "./Unassigned";


// Team statuses, triage outcomes, not-served reasons and their words are the server's (generated: make contracts).
const TEAM_STATUS: Readonly<Record<string, string>> = TEAM_STATUS_LABELS;

/** The server's triage outcomes, "Dispatch co-response" first (the usual answer on this console). */
const OUTCOMES = [...TRIAGE_OUTCOMES].sort(([a], [b]) => Number(b === "dispatch_co_response") - Number(a === "dispatch_co_response"));
const NOT_SERVED = NOT_SERVED_REASONS;

export function teamStatusLabel(s: string): string {
  return TEAM_STATUS[s] ?? s;
}

function errorText(e: unknown): string {
  if (e instanceof NetworkError) return "No connection to the server. Try again when back online.";
  if (e instanceof ApiError) {
    const cur = e.current as { status?: string; team_call_sign?: string } | undefined;
    if (e.status === 409 && cur?.status) return `${e.message} Current state: ${STATUS_LABEL[cur.status] ?? cur.status}${cur.team_call_sign ? `, team ${cur.team_call_sign}` : ""}.`;
    return e.message;
  }
  return "Something went wrong.";
}

function fieldErr(e: unknown): Record<string, string[]> {
  return e instanceof ApiError ? e.fieldErrors : {};
}

export function DispatchConsole() {
  const [incidents, setIncidents] = useState<BoardIncident[]>([]);
  const [teams, setTeams] = useState<OnDutyTeam[]>([]);
  const [live, setLive] = useState<DispatchLive>(EMPTY_LIVE);
  const [selected, setSelected] = useState<number | null>(null);
  const [creating, setCreating] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  // A reload started before a write's answer was applied must not put the older board back.
  const generation = useRef(0);

  const reload = useCallback(async () => {
    const started = generation.current;
    try {
      const [board, onDuty, delivery] = await Promise.all([
        api<{ results: BoardIncident[] }>("/api/v1/incidents/board/?page_size=200"),
        api<OnDutyTeam[]>("/api/v1/teams/on-duty/"),
        api<Array<Record<string, unknown>>>("/api/v1/delivery/board/").catch(() => []),
      ]);
      if (started !== generation.current) return; // a newer answer is shown; its own reload follows
      setIncidents(board.results);
      setTeams(onDuty);
      setLive((l) => loadDeliveryBoard(l, delivery));
      setLoadError(null);
    } catch (e) {
      setLoadError(errorText(e));
    } finally {
      setLoaded(true);
    }
  }, []);

  useEffect(() => {
    void reload();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsub = onServerEvent((event) => {
      setLive((l) => applyDispatchEvent(l, event));
      // The event's news at once (status, team, alert); the reload settles the rest.
      setIncidents((cur) => applyBoardEvent(cur, event));
      if (inTopics(event, ["incident", "assignment", "shift", "team"])) {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => void reload(), 200);
      }
    });
    const tick = setInterval(() => setIncidents((x) => x.slice()), 30_000); // ages
    return () => {
      unsub();
      clearInterval(tick);
      if (timer) clearTimeout(timer);
    };
  }, [reload]);

  const members = useMemo(() => {
    const m = new Map<number, { name: string; team: number }>();
    for (const t of teams) for (const p of t.members) m.set(p.id, { name: p.full_name, team: t.team.id });
    return m;
  }, [teams]);

  const current = incidents.find((i) => i.id === selected) ?? null;
  const onAnswer = useCallback((incidentId: number, answer: AssignmentAnswer) => {
    generation.current++;
    setIncidents((cur) => applyAssignmentAnswer(cur, incidentId, answer));
  }, []);

  return (
    <div class="dispatch">
      <h1 id="page-title" tabIndex={-1}>
        Dispatch
      </h1>
      <UnassignedAlerts incidents={incidents} onOpen={setSelected} />
      {live.alerts.length > 0 && (
        <div class="escalations" role="alert">
          {live.alerts.map((a) => {
            const aid = subjectAssignment(a.subject);
            const inc = incidents.find((i) => i.assignment?.id === aid);
            return (
              <div key={a.key} class={`escalation escalation-${a.stage}`}>
                <span>
                  <strong>Team {a.team || "?"}</strong>: {inc ? `incident #${inc.id} ` : ""}
                  {ALERT_TEXT[a.stage]}
                </span>
                {inc && (
                  <button type="button" class="btn btn-secondary" onClick={() => setSelected(inc.id)}>
                    Open
                  </button>
                )}
                <button type="button" class="btn btn-secondary" aria-label="Dismiss alert" onClick={() => setLive((l) => ({ ...l, alerts: l.alerts.filter((x) => x.key !== a.key) }))}>
                  ×
                </button>
              </div>
            );
          })}
        </div>
      )}
      {loadError && (
        <p class="notice notice-error" role="alert">
          {loadError}
        </p>
      )}
      <div class="dispatch-grid">
        <section class="card" aria-labelledby="incidents-title">
          <div class="section-head">
            <h2 id="incidents-title">Open incidents</h2>
            <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
              New incident
            </button>
          </div>
          {creating && (
            <CreateIncident
              onCancel={() => setCreating(false)}
              onCreated={(id) => {
                setCreating(false);
                setSelected(id);
                void reload();
              }}
            />
          )}
          {incidents.length === 0 ? (
            <p class="empty">{loaded ? "No open incidents." : "Loading…"}</p>
          ) : (
            <ul class="incident-list">
              {incidents.map((i) => (
                <li key={i.id}>
                  <button
                    type="button"
                    class={`incident-row${selected === i.id ? " selected" : ""}`}
                    aria-pressed={selected === i.id}
                    onClick={() => setSelected(i.id)}
                  >
                    <span class={`prio prio-${i.priority >= 7 ? "high" : i.priority >= 4 ? "mid" : "low"}`}>P{i.priority}</span>
                    <span class="incident-main">
                      <strong>{i.call_type_code}</strong> {i.address}
                      {safetyFlags(i).length > 0 && <span class="flag"> ⚠ {safetyFlags(i)[0]}</span>}
                      <span class="muted incident-sub">
                        #{i.id} · {ageText(i.age_seconds ?? (Date.now() - Date.parse(i.received_at)) / 1000)} ·{" "}
                        {i.assignment ? `${STATUS_LABEL[i.assignment.status] ?? i.assignment.status} · ${i.assignment.team.call_sign}` : "Unassigned"}
                        {i.unassigned_alert && <strong class="flag"> · {waitingText(i.unassigned_alert)}</strong>}
                      </span>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
        <div>
          {current ? (
            <IncidentPanel
              key={current.id}
              incident={current}
              teams={teams}
              live={live}
              members={members}
              onAnswer={onAnswer}
              onChanged={() => void reload()}
            />
          ) : (
            <section class="card">
              <h2>Incident</h2>
              <p class="empty">Select an incident to triage, offer or follow it.</p>
            </section>
          )}
          <TeamsCard teams={teams} />
        </div>
      </div>
    </div>
  );
}

export function TeamsCard({ teams, incidents }: { teams: OnDutyTeam[]; incidents?: BoardIncident[] }) {
  return (
    <section class="card" aria-labelledby="teams-title">
      <h2 id="teams-title">Teams on duty</h2>
      {teams.length === 0 ? (
        <p class="empty">No team on duty.</p>
      ) : (
        <ul class="team-list">
          {teams.map((t) => {
            const working = incidents?.filter((i) => i.assignment?.team.id === t.team.id) ?? [];
            return (
              <li key={t.team.id}>
                <strong>{t.team.call_sign}</strong> <span class={`pill team-${t.status}`}>{teamStatusLabel(t.status)}</span>
                <span class="muted"> {t.members.map((m) => m.full_name).join(", ")}</span>
                {working.map((i) => (
                  <span key={i.id} class="muted team-call">
                    {" "}
                    · #{i.id} {i.call_type_code}: {STATUS_LABEL[i.assignment!.status] ?? i.assignment!.status}
                  </span>
                ))}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function CreateIncident({ onCancel, onCreated }: { onCancel: () => void; onCreated: (id: number) => void }) {
  const [f, setF] = useState({
    address: "",
    call_type: "WELFARE",
    priority: "5",
    weapon_present: false,
    weapon_kind: "",
    violence_toward_responders: false,
    substances_involved: false,
    premise_hazards: "",
  });
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setF({ ...f, [k]: t.type === "checkbox" ? t.checked : t.value });
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const body: Record<string, unknown> = { ...f, priority: Number(f.priority) };
      if (!f.weapon_present) delete body.weapon_kind;
      const created = await api<{ id: number }>("/api/v1/incidents/", { method: "POST", body });
      onCreated(created.id);
    } catch (err) {
      setErrors(fieldErr(err));
      setMessage(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const err = (k: string) =>
    errors[k] ? (
      <p id={`new-${k}-error`} class="field-error">
        {errors[k]!.join(" ")}
      </p>
    ) : null;
  const aria = (k: string) => (errors[k] ? { "aria-invalid": "true" as const, "aria-describedby": `new-${k}-error` } : {});
  return (
    <form class="incident-form" noValidate onSubmit={(e) => void submit(e)} aria-label="New incident">
      {message && (
        <p class="field-error" role="alert">
          {message}
        </p>
      )}
      <div class="field">
        <label for="new-address">Address</label>
        <input id="new-address" value={f.address} onInput={set("address")} required {...aria("address")} />
        {err("address")}
      </div>
      <div class="field">
        <label for="new-call-type">Call type</label>
        <select id="new-call-type" value={f.call_type} onChange={set("call_type")} {...aria("call_type")}>
          {CALL_TYPES.map(([code, label]) => (
            <option key={code} value={code}>
              {code}: {label}
            </option>
          ))}
        </select>
        {err("call_type")}
      </div>
      <div class="field">
        <label for="new-priority">Priority (0–10)</label>
        <input id="new-priority" type="number" min={0} max={10} value={f.priority} onInput={set("priority")} {...aria("priority")} />
        {err("priority")}
      </div>
      <fieldset>
        <legend>Safety flags</legend>
        <label class="check">
          <input type="checkbox" checked={f.weapon_present} onChange={set("weapon_present")} /> Weapon present
        </label>
        {f.weapon_present && (
          <div class="field">
            <label for="new-weapon-kind">Weapon kind</label>
            <input id="new-weapon-kind" value={f.weapon_kind} onInput={set("weapon_kind")} />
          </div>
        )}
        <label class="check">
          <input type="checkbox" checked={f.violence_toward_responders} onChange={set("violence_toward_responders")} /> Violence toward responders
        </label>
        <label class="check">
          <input type="checkbox" checked={f.substances_involved} onChange={set("substances_involved")} /> Substances involved
        </label>
        <div class="field">
          <label for="new-hazards">Premise hazards</label>
          <input id="new-hazards" value={f.premise_hazards} onInput={set("premise_hazards")} {...aria("premise_hazards")} />
          {err("premise_hazards")}
        </div>
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          Create incident
        </button>
        <button type="button" class="btn btn-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** A team the server recommends for an incident (generated from the OpenAPI schema). */
type Recommendation = IncidentRecommendationsApiOutput;

/** Why an offer button is disabled, in words (null: it may be pressed). */
export function offerBlocked(r: Pick<Recommendation, "status" | "current_assignment" | "team">, busy: string | null): string | null {
  if (busy === `offer-${r.team.id}`) return "Sending the offer…";
  if (busy !== null) return "Wait for the answer to the last action.";
  if (r.status === "not_available") {
    const c = r.current_assignment;
    return c ? `Busy: ${STATUS_LABEL[c.status] ?? c.status} on incident #${c.incident_id} (P${c.priority}).` : "Busy on another call.";
  }
  return null;
}

function IncidentPanel({
  incident,
  teams,
  live,
  members,
  onAnswer,
  onChanged,
}: {
  incident: BoardIncident;
  teams: OnDutyTeam[];
  live: DispatchLive;
  members: Map<number, { name: string; team: number }>;
  onAnswer: (incidentId: number, answer: AssignmentAnswer) => void;
  onChanged: () => void;
}) {
  const a = incident.assignment && isActive(incident.assignment.status) ? incident.assignment : null;
  const [recs, setRecs] = useState<Recommendation[] | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [reason, setReason] = useState("");
  const [reassignTeam, setReassignTeam] = useState("");
  // The write in flight (its button says so; every offer button waits for its answer).
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    api<Recommendation[]>(`/api/v1/incidents/${incident.id}/recommendations/`)
      .then(setRecs)
      .catch(() => setRecs([]));
  }, [incident.id, a?.status, teams]);

  const act = async (key: string, url: string, body: unknown, done: string) => {
    if (busy) return;
    setBusy(key);
    setMessage(null);
    try {
      // The answer is the assignment as it now is: shown at once, before any event or reload.
      const answer = await api<AssignmentAnswer>(url, { method: "POST", body });
      onAnswer(incident.id, answer);
      setMessage({ error: false, text: done });
      setReason("");
    } catch (e) {
      setMessage({ error: true, text: errorText(e) });
    } finally {
      setBusy(null);
      onChanged();
    }
  };

  const teamMembers = a ? new Set(teams.find((t) => t.team.id === a.team.id)?.members.map((m) => m.id) ?? []) : new Set<number>();
  const receipts = a ? teamReceipts(live, a.id, teamMembers) : [];
  const flags = safetyFlags(incident);

  return (
    <section class="card incident-panel" aria-labelledby="incident-title">
      <h2 id="incident-title">
        Incident #{incident.id}: {callTypeLabel(incident.call_type_code, incident.call_type_description)}
      </h2>
      {flags.length > 0 && (
        <ul class="safety-flags">
          {flags.map((x) => (
            <li key={x}>⚠ {x}</li>
          ))}
        </ul>
      )}
      <dl class="facts">
        <div>
          <dt>Address</dt>
          <dd>{incident.address || "—"}</dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd>{incident.priority}</dd>
        </div>
        <div>
          <dt>Received</dt>
          <dd>{formatDayTime(incident.received_at)}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>{incidentStatusLabel(incident.status)}</dd>
        </div>
      </dl>
      {message && (
        <p class={`notice ${message.error ? "notice-error" : "notice-ok"}`} role={message.error ? "alert" : "status"}>
          {message.text}
        </p>
      )}
      <h3>Assignment</h3>
      {a ? (
        <div class="assignment-live">
          <p>
            Team <strong>{a.team.call_sign}</strong>: <span class="pill pill-status" data-testid="assignment-status">{STATUS_LABEL[a.status] ?? a.status}</span>
          </p>
          <ul class="receipts" aria-label="Delivery to the team's devices">
            {receipts.length === 0 && <li class="muted">No device has received the offer yet.</li>}
            {receipts.map((r) => (
              <li key={r.device_id}>
                {members.get(r.user_id)?.name ?? `User ${r.user_id}`} (device {r.device_id.slice(0, 8)}): delivered{" "}
                {r.delivered_at ? formatDayTime(r.delivered_at) : "—"}, seen {r.seen_at ? formatDayTime(r.seen_at) : "—"}
              </li>
            ))}
            <li>Accepted: {a.accepted_at ? formatDayTime(a.accepted_at) : "not yet"}</li>
          </ul>
          <ReachList
            delivery={deliveryOf(live, a.id)}
            people={[...teamMembers].map((id) => ({ id, name: members.get(id)?.name ?? `User ${id}` }))}
          />
          <div class="field">
            <label for="action-reason">Reason (for reassign or cancel)</label>
            <input id="action-reason" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="reassign-team">Reassign to</label>
            <select id="reassign-team" value={reassignTeam} onChange={(e) => setReassignTeam((e.target as HTMLSelectElement).value)}>
              <option value="">Choose a team</option>
              {teams
                .filter((t) => t.team.id !== a.team.id)
                .map((t) => (
                  <option key={t.team.id} value={String(t.team.id)}>
                    {t.team.call_sign} ({teamStatusLabel(t.status)})
                  </option>
                ))}
            </select>
          </div>
          <div class="form-actions">
            <button
              type="button"
              class="btn btn-primary"
              disabled={!reassignTeam || busy !== null}
              onClick={() => void act("reassign", `/api/v1/incidents/${incident.id}/reassign/`, { team: Number(reassignTeam), reason }, "Reassigned.")}
            >
              {busy === "reassign" ? "Reassigning…" : "Reassign"}
            </button>
            <button
              type="button"
              class="btn btn-danger"
              disabled={busy !== null}
              onClick={() => void act("cancel", `/api/v1/assignments/${a.id}/cancel/`, { reason }, "Assignment cancelled.")}
            >
              {busy === "cancel" ? "Cancelling…" : "Cancel assignment"}
            </button>
          </div>
        </div>
      ) : (
        <>
          <p class="muted">Not assigned. Offer to a team:</p>
          {recs === null ? (
            <p>Loading teams…</p>
          ) : recs.length === 0 ? (
            <p class="empty">No team on duty.</p>
          ) : (
            <ul class="recs">
              {recs.map((r) => {
                const why = offerBlocked(r, busy);
                const whyId = `offer-why-${r.team.id}`;
                return (
                  <li key={r.team.id}>
                    <span>
                      <strong>{r.team.call_sign}</strong> {teamStatusLabel(r.status)}
                      <span class="muted"> · {r.members.map((m) => m.full_name).join(", ")}</span>
                      {why && (
                        <span id={whyId} class="offer-why" data-testid="offer-why">
                          {why}
                        </span>
                      )}
                    </span>
                    <button
                      type="button"
                      class="btn btn-primary"
                      disabled={why !== null}
                      aria-describedby={why ? whyId : undefined}
                      onClick={() => void act(`offer-${r.team.id}`, `/api/v1/incidents/${incident.id}/assignments/`, { team: r.team.id }, `Offered to ${r.team.call_sign}.`)}
                    >
                      {busy === `offer-${r.team.id}` ? `Offering to ${r.team.call_sign}…` : `Offer to ${r.team.call_sign}`}
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        </>
      )}
      <TriageForm incident={incident} onDone={onChanged} />
    </section>
  );
}

function TriageForm({ incident, onDone }: { incident: BoardIncident; onDone: () => void }) {
  const [eligible, setEligible] = useState<string>(incident.coresponse_eligible === false ? "no" : incident.coresponse_eligible ? "yes" : "");
  const [reason, setReason] = useState(incident.eligibility_reason ?? "");
  const [outcome, setOutcome] = useState(incident.triage_outcome || "");
  const [notServed, setNotServed] = useState(incident.not_served_reason || "");
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const needsNotServed = eligible === "yes" && outcome !== "" && outcome !== "dispatch_co_response";
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = { coresponse_eligible: eligible === "yes", eligibility_reason: reason, outcome };
    if (needsNotServed) body.not_served_reason = notServed;
    try {
      if (!eligible) throw new ApiError(400, "Choose whether the call is eligible.", { coresponse_eligible: ["Required."] });
      await api(`/api/v1/incidents/${incident.id}/triage/`, { method: "POST", body });
      setErrors({});
      setMessage({ error: false, text: "Triage saved." });
      onDone();
    } catch (err) {
      setErrors(fieldErr(err));
      setMessage({ error: true, text: errorText(err) });
    }
  };
  const err = (k: string) =>
    errors[k] ? (
      <p id={`triage-${k}-error`} class="field-error">
        {errors[k]!.join(" ")}
      </p>
    ) : null;
  const aria = (k: string) => (errors[k] ? { "aria-invalid": "true" as const, "aria-describedby": `triage-${k}-error` } : {});
  return (
    <form class="triage-form" onSubmit={(e) => void submit(e)} aria-labelledby="triage-title">
      <h3 id="triage-title">Triage</h3>
      {message && (
        <p class={message.error ? "field-error" : "notice notice-ok"} role={message.error ? "alert" : "status"}>
          {message.text}
        </p>
      )}
      <fieldset {...aria("coresponse_eligible")}>
        <legend>Co-response eligible</legend>
        <label class="check">
          <input type="radio" name="eligible" value="yes" checked={eligible === "yes"} onChange={() => setEligible("yes")} /> Yes
        </label>
        <label class="check">
          <input type="radio" name="eligible" value="no" checked={eligible === "no"} onChange={() => setEligible("no")} /> No
        </label>
        {err("coresponse_eligible")}
      </fieldset>
      <div class="field">
        <label for="triage-reason">Reason</label>
        <input id="triage-reason" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} {...aria("eligibility_reason")} />
        {err("eligibility_reason")}
      </div>
      <div class="field">
        <label for="triage-outcome">Outcome</label>
        <select id="triage-outcome" value={outcome} onChange={(e) => setOutcome((e.target as HTMLSelectElement).value)} {...aria("outcome")}>
          <option value="">Choose an outcome</option>
          {OUTCOMES.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
        {err("outcome")}
      </div>
      {needsNotServed && (
        <div class="field">
          <label for="triage-not-served">Why not served by co-response</label>
          <select id="triage-not-served" value={notServed} onChange={(e) => setNotServed((e.target as HTMLSelectElement).value)} {...aria("not_served_reason")}>
            <option value="">Choose a reason</option>
            {NOT_SERVED.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
          {err("not_served_reason")}
        </div>
      )}
      <button type="submit" class="btn btn-secondary">
        Save triage
      </button>
    </form>
  );
}
