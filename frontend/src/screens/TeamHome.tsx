import type { ComponentChildren } from "preact";
import type { Role } from "../generated/roles";
import type { Me } from "../lib/api";
import { formatDayTime, formatWindow } from "../lib/time";

/** Short role names for the team card (the server's labels are longer: generated ROLES). */
const ROLE_LABEL: Record<Role, string> = {
  officer: "Officer",
  clinician: "Clinician",
  care_navigator: "Care navigator",
  dispatcher: "Dispatcher",
  supervisor: "Supervisor",
  clinical_supervisor: "Clinical supervisor",
  analyst: "Analyst",
  admin: "Administrator",
};

export function roleLabel(role: string): string {
  return ROLE_LABEL[role as Role] ?? role;
}

/** `children` replace the empty assignment area (screens/team/TeamScreen.tsx fills it); with
 * `childrenFirst` (on a call) they come before the team card. */
export function TeamHome({
  me,
  stale,
  now = new Date(),
  children,
  childrenFirst = false,
}: {
  me: Me;
  stale: boolean;
  now?: Date;
  children?: ComponentChildren;
  childrenFirst?: boolean;
}) {
  const shift = me.current_shift;
  let status: string;
  if (!shift) status = "Not on shift";
  else if (now < new Date(shift.starts_at)) status = "Shift not started yet";
  else if (now >= new Date(shift.ends_at)) status = "Shift ended";
  else status = "On shift";
  const onShift = status === "On shift";

  const title = shift ? `Team ${shift.team.call_sign}` : "Team";
  const assignment = children ?? (
    <section class="card assignment" aria-labelledby="assignment-title">
      <h2 id="assignment-title">Assignment</h2>
      <p class="empty">No active assignment</p>
    </section>
  );
  return (
    <>
      {childrenFirst && (
        <>
          <h1 id="page-title" class="page-title-compact" tabIndex={-1}>
            {title}
          </h1>
          {assignment}
        </>
      )}
      <section class="card" aria-labelledby={childrenFirst ? "shift-title" : "page-title"}>
        {childrenFirst ? (
          <h2 id="shift-title">Shift</h2>
        ) : (
          <h1 id="page-title" tabIndex={-1}>
            {title}
          </h1>
        )}
        {stale && <p class="notice">Shown from this device: the server could not be reached.</p>}
        <dl class="facts">
          <div>
            <dt>Status</dt>
            <dd>
              <span class={`pill ${onShift ? "pill-on" : "pill-off"}`}>{status}</span>
            </dd>
          </div>
          {shift && (
            <>
              <div>
                <dt>Call sign</dt>
                <dd>{shift.team.call_sign}</dd>
              </div>
              <div>
                <dt>Shift</dt>
                <dd>{formatWindow(shift.starts_at, shift.ends_at)}</dd>
              </div>
            </>
          )}
          <div>
            <dt>Partner</dt>
            <dd>{me.partner ? `${me.partner.full_name} (${roleLabel(me.partner.role)})` : "No partner assigned"}</dd>
          </div>
        </dl>
        {!shift && <p class="empty">When a dispatcher or supervisor puts you on a shift, your team appears here.</p>}
        {shift && shift.members.length > 2 && (
          <>
            <h2>Team members</h2>
            <ul class="members">
              {shift.members.map((m) => (
                <li key={m.id}>
                  {m.full_name} <span class="muted">({roleLabel(m.role)})</span>
                </li>
              ))}
            </ul>
          </>
        )}
        {shift && now >= new Date(shift.ends_at) && <p class="muted">Ended {formatDayTime(shift.ends_at)}.</p>}
      </section>
      {!childrenFirst && assignment}
    </>
  );
}
