import { describe, expect, it } from "vitest";
import { offerBlocked } from "./DispatchConsole";
import { applyAssignmentAnswer, applyBoardEvent, waitingText, type AssignmentAnswer, type BoardIncident } from "./model";

const row = (id: number, extra: Partial<BoardIncident> = {}): BoardIncident =>
  ({ id, status: "Active", priority: 8, call_type_code: "SUICTHRT", assignment: null, unassigned_alert: null, ...extra }) as BoardIncident;

const answer = (status: string, id = 5): AssignmentAnswer =>
  ({ id, incident_id: 1, team: { id: 2, call_sign: "CR-1" }, status, offered_at: "2026-06-03T16:00:00Z" }) as AssignmentAnswer;

const alert = { waiting_since: "2026-06-03T16:00:00Z", threshold_seconds: 60, raised_at: "2026-06-03T16:01:00Z" };

describe("the board from a write's own answer", () => {
  it("shows the offer at once and drops the call's unassigned alert", () => {
    const before = [row(1, { unassigned_alert: alert }), row(2)];
    const after = applyAssignmentAnswer(before, 1, answer("offered"));
    expect(after[0]!.assignment?.status).toBe("offered");
    expect(after[0]!.assignment?.team.call_sign).toBe("CR-1");
    expect(after[0]!.unassigned_alert).toBeNull();
    expect(after[1]).toBe(before[1]);
  });
  it("a cancel's answer clears the assignment, but an old ended one does not clear a newer one", () => {
    const offered = applyAssignmentAnswer([row(1)], 1, answer("offered", 5));
    expect(applyAssignmentAnswer(offered, 1, answer("cancelled", 5))[0]!.assignment).toBeNull();
    expect(applyAssignmentAnswer(offered, 1, answer("cancelled", 4))[0]!.assignment?.id).toBe(5);
  });
});

describe("the board from live events", () => {
  const base = { incident_id: 1, incident_status: "Active", call_type: "SUICTHRT", call_type_common: "", priority: 8, address: "", beat: "" };
  it("an offer event sets the team and status before any reload", () => {
    const out = applyBoardEvent([row(1)], { type: "assignment.offered", data: { ...base, assignment_id: 9, status: "offered", team_id: 3, team_call_sign: "CR-2" } });
    expect(out[0]!.assignment).toMatchObject({ id: 9, status: "offered", team: { id: 3, call_sign: "CR-2" } });
  });
  it("status moves on, the incident status follows, an end clears it", () => {
    let rows = applyBoardEvent([row(1)], { type: "assignment.offered", data: { ...base, assignment_id: 9, status: "offered", team_id: 3, team_call_sign: "CR-2" } });
    rows = applyBoardEvent(rows, { type: "assignment.status", data: { ...base, incident_status: "ResourcesEnroute", assignment_id: 9, status: "en_route", team_id: 3 } });
    expect(rows[0]!.assignment?.status).toBe("en_route");
    expect(rows[0]!.status).toBe("ResourcesEnroute");
    rows = applyBoardEvent(rows, { type: "assignment.declined", data: { ...base, assignment_id: 9, status: "declined", team_id: 3 } });
    expect(rows[0]!.assignment).toBeNull();
  });
  it("raises and clears the unassigned-call alert", () => {
    let rows = applyBoardEvent([row(1)], { type: "incident.unassigned", data: { ...base, ...alert } });
    expect(rows[0]!.unassigned_alert).toEqual(alert);
    rows = applyBoardEvent(rows, { type: "incident.unassigned_cleared", data: { ...base, reason: "offered", cleared_at: "2026-06-03T16:02:00Z" } });
    expect(rows[0]!.unassigned_alert).toBeNull();
  });
  it("returns the same array for other incidents and other events", () => {
    const rows = [row(1)];
    expect(applyBoardEvent(rows, { type: "assignment.offered", data: { ...base, incident_id: 99, assignment_id: 1, status: "offered", team_id: 1 } })).toBe(rows);
    expect(applyBoardEvent(rows, { type: "shift.updated", data: {} })).toBe(rows);
  });
  it("says how long a call has waited", () => {
    expect(waitingText(alert, Date.parse("2026-06-03T16:03:30Z"))).toBe("waiting 3 min with no team");
  });
});

describe("a disabled offer button says why", () => {
  const team = { id: 3, call_sign: "CR-2" };
  it("busy on a call: which call and how far", () => {
    expect(offerBlocked({ team, status: "not_available", current_assignment: { id: 4, incident_id: 12, status: "on_scene", priority: 6 } }, null)).toBe(
      "Busy: On scene on incident #12 (P6).",
    );
  });
  it("while an offer is in flight, every button waits; the free team's button is enabled otherwise", () => {
    expect(offerBlocked({ team, status: "available", current_assignment: null }, "offer-3")).toBe("Sending the offer…");
    expect(offerBlocked({ team, status: "available", current_assignment: null }, "offer-7")).toBe("Wait for the answer to the last action.");
    expect(offerBlocked({ team, status: "available", current_assignment: null }, null)).toBeNull();
    expect(offerBlocked({ team, status: "conditionally_available", current_assignment: null }, null)).toBeNull();
  });
});
