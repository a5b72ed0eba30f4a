/**
 * Dispatch console state that comes from events: per-device delivery receipts of each offer,
 * escalation alerts, and which offer event belongs to which assignment. Pure functions (tested).
 */

import type { AssignmentOutput, IncidentOutput, MemberOutput, OnDutyTeam as OnDutyTeamOutput } from "../../generated/api";
import type { EventPayloads, EventType } from "../../generated/events";
import { ASSIGNMENT_ACTIVE_STATUSES } from "../../generated/incidents";
import { inTopics } from "../../lib/events";

// The board's and the on-duty list's payloads: generated from the OpenAPI schema (make contracts).
export type Member = MemberOutput;
export type OnDutyTeam = OnDutyTeamOutput;
export type BoardAssignment = AssignmentOutput;
export type BoardIncident = IncidentOutput;

export interface DeviceReceipt {
  device_id: string;
  user_id: number;
  delivered_at: string | null;
  seen_at: string | null;
}

/** One telephone stage (SMS or call) of an offer to one member (apps.notifications). */
export interface PhoneStage {
  status: string;
  provider_status: string;
  sent_at: string | null;
  delivered_at: string | null;
  answered_at: string | null;
  replied_at: string | null;
  reply: string;
  detail: string;
}

/** Which stage reached one member: push, SMS, call, a reply by phone (the delivery board's `reach`). */
export interface MemberReach {
  user_id: number;
  push: { subscribed: boolean; sent_at: string | null } | null;
  sms: PhoneStage | null;
  voice: PhoneStage | null;
  reply: { action: string; channel: string; at: string | null } | null;
}

/** One offer's delivery, keyed by the offer event id. */
export interface Delivery {
  event_id: string;
  subject: string | null;
  pushed_at?: string | null;
  alerted_at?: string | null;
  flagged_for_reassignment_at?: string | null;
  devices: DeviceReceipt[];
  /** "off": no SMS / voice provider configured on the server. */
  phone_stages?: string;
  reach?: Record<number, MemberReach>;
}

export interface EscalationAlert {
  key: string;
  subject: string;
  team: string;
  /** The escalation stage of the delivery.* payloads (generated from the event registry). */
  stage: EventPayloads["delivery.alert"]["stage"];
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
  type: EventType;
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
    const reach: Record<number, MemberReach> = { ...(prev.reach ?? {}) };
    for (const r of (row.reach as MemberReach[] | undefined) ?? []) reach[r.user_id] = r;
    deliveries[eventId] = {
      ...prev,
      subject: s(row.subject) ?? prev.subject,
      pushed_at: s(row.pushed_at),
      alerted_at: s(row.alerted_at),
      flagged_for_reassignment_at: s(row.flagged_for_reassignment_at),
      devices,
      phone_stages: s(row.phone_stages) ?? prev.phone_stages,
      reach,
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
  if (event.type === "notification.stage") {
    const eventId = s(d.event_id);
    const channel = s(d.channel);
    if (!eventId || typeof d.user_id !== "number" || (channel !== "sms" && channel !== "voice")) return live;
    const prev = live.deliveries[eventId] ?? { event_id: eventId, subject: s(d.subject), devices: [] };
    const before = prev.reach?.[d.user_id] ?? { user_id: d.user_id, push: null, sms: null, voice: null, reply: null };
    const stage: PhoneStage = {
      status: s(d.status) ?? "",
      provider_status: s(d.provider_status) ?? "",
      sent_at: s(d.sent_at),
      delivered_at: s(d.delivered_at),
      answered_at: s(d.answered_at),
      replied_at: s(d.replied_at),
      reply: s(d.reply) ?? "",
      detail: s(d.detail) ?? "",
    };
    const reply = stage.reply ? { action: stage.reply, channel, at: stage.replied_at } : before.reply;
    const member: MemberReach = { ...before, [channel]: stage, reply };
    const delivery: Delivery = { ...prev, subject: prev.subject ?? s(d.subject), reach: { ...(prev.reach ?? {}), [d.user_id]: member } };
    return { ...live, deliveries: { ...live.deliveries, [eventId]: delivery } };
  }
  if (event.type === "delivery.escalated" || event.type === "delivery.alert" || event.type === "delivery.reassign") {
    const subject = s(d.subject) ?? "";
    const stage = (s(d.stage) ?? event.type.slice("delivery.".length).replace("escalated", "push")) as EscalationAlert["stage"];
    const alert: EscalationAlert = { key: `${subject}:${stage}`, subject, team: s(d.team) ?? "", stage, fired_at: s(d.fired_at) ?? "" };
    const alerts = [...live.alerts.filter((a) => a.key !== alert.key), alert];
    return { ...live, alerts };
  }
  if (inTopics(event, ["assignment"]) && event.type !== "assignment.acknowledged") {
    // Resolved (accepted, declined, cancelled …): its escalation alerts are no longer needed.
    const aid = typeof d.assignment_id === "number" ? d.assignment_id : null;
    if (aid === null || !live.alerts.some((a) => subjectAssignment(a.subject) === aid)) return live;
    return { ...live, alerts: live.alerts.filter((a) => subjectAssignment(a.subject) !== aid) };
  }
  return live;
}

/** Receipts of the team's devices for an assignment (other people's receipts, e.g. a dispatcher's own screen, are left out). */
export function teamReceipts(live: DispatchLive, assignmentId: number, memberIds: ReadonlySet<number>): DeviceReceipt[] {
  const delivery = deliveryOf(live, assignmentId);
  if (!delivery) return [];
  return delivery.devices.filter((r) => memberIds.has(r.user_id));
}

/** The offer's delivery record for an assignment (by its offer event, else by subject). */
export function deliveryOf(live: DispatchLive, assignmentId: number): Delivery | undefined {
  const eventId = live.offers[assignmentId];
  return (eventId ? live.deliveries[eventId] : undefined) ?? Object.values(live.deliveries).find((x) => subjectAssignment(x.subject) === assignmentId);
}

function smsText(stage: PhoneStage): string {
  if (stage.status === "skipped" || stage.status === "failed") return `SMS ${stage.status} (${stage.detail})`;
  if (stage.status === "cancelled") return "";
  if (stage.delivered_at) return "SMS delivered";
  if (stage.provider_status === "undelivered" || stage.provider_status === "failed") return "SMS not delivered";
  return stage.status === "sent" ? "SMS sent" : "SMS sending";
}

function callText(stage: PhoneStage): string {
  if (stage.status === "skipped" || stage.status === "failed") return `call ${stage.status} (${stage.detail})`;
  if (stage.status === "cancelled") return "";
  if (stage.answered_at) return "call answered";
  if (["busy", "no-answer", "failed", "canceled"].includes(stage.provider_status)) return `call ${stage.provider_status.replace("-", " ")}`;
  return stage.status === "sent" ? "calling" : "call starting";
}

/** The app's own receipts for one member: "seen in the app" beats "delivered to the app". */
export function appText(devices: DeviceReceipt[], userId: number): string {
  const mine = devices.filter((d) => d.user_id === userId);
  if (mine.some((d) => d.seen_at)) return "seen in the app";
  if (mine.some((d) => d.delivered_at)) return "delivered to the app";
  return "";
}

/** Which stages reached one member, in order: "push sent", "SMS delivered", "call answered", "replied: accept (SMS)". */
export function reachText(reach: MemberReach | undefined): string[] {
  if (!reach) return [];
  const out: string[] = [];
  if (reach.push?.sent_at) out.push("push sent");
  if (reach.sms) out.push(smsText(reach.sms));
  if (reach.voice) out.push(callText(reach.voice));
  if (reach.reply) out.push(`replied: ${reach.reply.action} (${reach.reply.channel === "voice" ? "keypad" : "SMS"})`);
  return out.filter(Boolean);
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

/** An assignment as a write answered it (POST offer/reassign/cancel: AssignmentOutput). */
export type AssignmentAnswer = BoardAssignment;

const ACTIVE_ASSIGNMENT = new Set<string>(ASSIGNMENT_ACTIVE_STATUSES);

/**
 * The board row after a write the dispatcher made here: the answer is the truth at that moment, so
 * the panel shows it at once (no window where "Offer to CR-1" still looks possible).
 */
export function applyAssignmentAnswer(incidents: BoardIncident[], incidentId: number, answer: AssignmentAnswer): BoardIncident[] {
  return incidents.map((i) => {
    if (i.id !== incidentId) return i;
    const active = ACTIVE_ASSIGNMENT.has(answer.status);
    if (!active && i.assignment && i.assignment.id !== answer.id) return i; // an older one ended; the newer stays
    // An offer ends the wait for a team: its alert clears with it (the server clears it in the same write).
    return { ...i, assignment: active ? answer : null, unassigned_alert: active ? null : i.unassigned_alert };
  });
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * Applies one live event to the board rows at once (the REST reload that follows settles the rest):
 * an assignment's status and team, the incident's status, the unassigned-call alert. Returns the same
 * array when nothing changed.
 */
export function applyBoardEvent(incidents: BoardIncident[], event: { type: EventType; data: Record<string, unknown> }): BoardIncident[] {
  const d = event.data;
  const id = num(d.incident_id);
  if (id === null || !inTopics(event, ["incident", "assignment"])) return incidents;
  const idx = incidents.findIndex((i) => i.id === id);
  if (idx < 0) return incidents;
  const before = incidents[idx]!;
  let row: BoardIncident = before;
  if (typeof d.incident_status === "string" && d.incident_status !== row.status) row = { ...row, status: d.incident_status };
  if (event.type === "incident.unassigned") {
    const since = s(d.waiting_since);
    const raised = s(d.raised_at);
    const threshold = num(d.threshold_seconds);
    if (since && raised && threshold !== null) row = { ...row, unassigned_alert: { waiting_since: since, raised_at: raised, threshold_seconds: threshold } };
  } else if (event.type === "incident.unassigned_cleared") {
    row = { ...row, unassigned_alert: null };
  } else if (inTopics(event, ["assignment"])) {
    const aid = num(d.assignment_id);
    const status = s(d.status);
    const teamId = num(d.team_id);
    if (aid !== null && status && teamId !== null) {
      if (ACTIVE_ASSIGNMENT.has(status)) {
        const prev = row.assignment && row.assignment.id === aid ? row.assignment : null;
        const assignment: BoardAssignment = prev
          ? { ...prev, status }
          : {
              id: aid,
              incident_id: id,
              team: { id: teamId, call_sign: s(d.team_call_sign) ?? "" },
              status,
              offered_at: new Date().toISOString(),
              acknowledged_at: null,
              accepted_at: null,
              en_route_at: null,
              on_scene_at: null,
              transporting_at: null,
              at_facility_at: null,
              cleared_at: null,
              ended_at: null,
              end_reason: "",
            };
        row = { ...row, assignment, unassigned_alert: null };
      } else if (row.assignment?.id === aid) {
        row = { ...row, assignment: null };
      }
    }
  }
  if (row === before) return incidents;
  const copy = incidents.slice();
  copy[idx] = row;
  return copy;
}

/** "waiting 3 min with no team" for an alert, as of `now`. */
export function waitingText(alert: { waiting_since: string }, now: number = Date.now()): string {
  return `waiting ${ageText((now - Date.parse(alert.waiting_since)) / 1000)} with no team`;
}
