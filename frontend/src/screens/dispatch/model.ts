/**
 * Dispatch console state that comes from events: per-device delivery receipts of each offer,
 * escalation alerts, and which offer event belongs to which assignment. Pure functions (tested).
 */

export interface Member {
  id: number;
  full_name: string;
  role: string;
}

export interface OnDutyTeam {
  team: { id: number; call_sign: string };
  shift_id: number;
  starts_at: string;
  ends_at: string;
  status: string;
  members: Member[];
}

export interface BoardAssignment {
  id: number;
  incident_id: number;
  team: { id: number; call_sign: string };
  status: string;
  offered_at: string;
  acknowledged_at: string | null;
  accepted_at: string | null;
  en_route_at: string | null;
  on_scene_at: string | null;
  cleared_at: string | null;
  end_reason?: string;
}

export interface BoardIncident {
  id: number;
  received_at: string;
  age_seconds?: number;
  call_type_code: string;
  call_type_description?: string;
  priority: number;
  priority_local?: string;
  address?: string;
  beat?: string;
  status: string;
  source?: string;
  weapon_present?: boolean;
  weapon_kind?: string;
  violence_toward_responders?: boolean;
  substances_involved?: boolean;
  premise_hazards?: string;
  coresponse_eligible?: boolean | null;
  eligibility_reason?: string;
  triage_outcome?: string;
  not_served_reason?: string;
  assignment: BoardAssignment | null;
}

export interface DeviceReceipt {
  device_id: string;
  user_id: number;
  delivered_at: string | null;
  seen_at: string | null;
}

/** One offer's delivery, keyed by the offer event id. */
export interface Delivery {
  event_id: string;
  subject: string | null;
  pushed_at?: string | null;
  alerted_at?: string | null;
  flagged_for_reassignment_at?: string | null;
  devices: DeviceReceipt[];
}

export interface EscalationAlert {
  key: string;
  subject: string;
  team: string;
  stage: "push" | "alert" | "reassign";
  fired_at: string;
}

export interface DispatchLive {
  deliveries: Record<string, Delivery>;
  /** assignment id → offer event id */
  offers: Record<number, string>;
  alerts: EscalationAlert[];
}

export const EMPTY_LIVE: DispatchLive = { deliveries: {}, offers: {}, alerts: [] };

interface EventLike {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

function s(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

export function subjectAssignment(subject: string | null | undefined): number | null {
  const m = /^assignment:(\d+)$/.exec(subject ?? "");
  return m ? Number(m[1]) : null;
}

function upsertDevice(devices: DeviceReceipt[], r: DeviceReceipt): DeviceReceipt[] {
  const i = devices.findIndex((d) => d.device_id === r.device_id);
  if (i < 0) return [...devices, r];
  const prev = devices[i]!;
  const copy = devices.slice();
  // Receipts only move forward: keep a time we already have.
  copy[i] = { ...prev, delivered_at: prev.delivered_at ?? r.delivered_at, seen_at: prev.seen_at ?? r.seen_at };
  return copy;
}

/** The delivery board's first load (`GET /api/v1/delivery/board/`) merged into the live state. */
export function loadDeliveryBoard(live: DispatchLive, rows: Array<Record<string, unknown>>): DispatchLive {
  const deliveries = { ...live.deliveries };
  const offers = { ...live.offers };
  for (const row of rows) {
    const eventId = s(row.event_id);
    if (!eventId) continue;
    const prev = deliveries[eventId] ?? { event_id: eventId, subject: null, devices: [] };
    let devices = prev.devices;
    for (const d of (row.devices as DeviceReceipt[] | undefined) ?? []) devices = upsertDevice(devices, d);
    deliveries[eventId] = {
      ...prev,
      subject: s(row.subject) ?? prev.subject,
      pushed_at: s(row.pushed_at),
      alerted_at: s(row.alerted_at),
      flagged_for_reassignment_at: s(row.flagged_for_reassignment_at),
      devices,
    };
    const aid = subjectAssignment(s(row.subject));
    if (aid !== null) offers[aid] = eventId;
  }
  return { ...live, deliveries, offers };
}

/** Applies one live event; returns the same object when nothing changed. */
export function applyDispatchEvent(live: DispatchLive, event: EventLike): DispatchLive {
  const d = event.data;
  if (event.type === "assignment.offered") {
    const aid = typeof d.assignment_id === "number" ? d.assignment_id : null;
    if (aid === null) return live;
    return { ...live, offers: { ...live.offers, [aid]: event.id } };
  }
  if (event.type === "delivery.updated") {
    const eventId = s(d.event_id);
    const device = s(d.device_id);
    if (!eventId || !device || typeof d.user_id !== "number") return live;
    const prev = live.deliveries[eventId] ?? { event_id: eventId, subject: s(d.subject), devices: [] };
    const devices = upsertDevice(prev.devices, { device_id: device, user_id: d.user_id, delivered_at: s(d.delivered_at), seen_at: s(d.seen_at) });
    return { ...live, deliveries: { ...live.deliveries, [eventId]: { ...prev, subject: prev.subject ?? s(d.subject), devices } } };
  }
  if (event.type === "delivery.escalated" || event.type === "delivery.alert" || event.type === "delivery.reassign") {
    const subject = s(d.subject) ?? "";
    const stage = (s(d.stage) ?? event.type.slice("delivery.".length).replace("escalated", "push")) as EscalationAlert["stage"];
    const alert: EscalationAlert = { key: `${subject}:${stage}`, subject, team: s(d.team) ?? "", stage, fired_at: s(d.fired_at) ?? "" };
    const alerts = [...live.alerts.filter((a) => a.key !== alert.key), alert];
    return { ...live, alerts };
  }
  if (event.type.startsWith("assignment.") && event.type !== "assignment.acknowledged") {
    // Resolved (accepted, declined, cancelled …): its escalation alerts are no longer needed.
    const aid = typeof d.assignment_id === "number" ? d.assignment_id : null;
    if (aid === null || !live.alerts.some((a) => subjectAssignment(a.subject) === aid)) return live;
    return { ...live, alerts: live.alerts.filter((a) => subjectAssignment(a.subject) !== aid) };
  }
  return live;
}

/** Receipts of the team's devices for an assignment (other people's receipts, e.g. a dispatcher's own screen, are left out). */
export function teamReceipts(live: DispatchLive, assignmentId: number, memberIds: ReadonlySet<number>): DeviceReceipt[] {
  const eventId = live.offers[assignmentId];
  const fromEvent = eventId ? live.deliveries[eventId] : undefined;
  const bySubject = Object.values(live.deliveries).find((x) => subjectAssignment(x.subject) === assignmentId);
  const delivery = fromEvent ?? bySubject;
  if (!delivery) return [];
  return delivery.devices.filter((r) => memberIds.has(r.user_id));
}

export const ALERT_TEXT: Record<EscalationAlert["stage"], string> = {
  push: "not seen after 20 s: sent a push notification",
  alert: "still not seen: call the team or reassign",
  reassign: "not answered: reassign this call",
};

/** "3 min" style age. */
export function ageText(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.floor(seconds))} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
