/**
 * Assignment lifecycle on the client (docs/incidents.md "Assignment lifecycle"): labels, the legal
 * next statuses a team member may set, and the reducer that applies live events to the inbox.
 * The server stays the truth: every event also triggers a REST reload of the inbox.
 */

import { ASSIGNMENT_ACTIVE_STATUSES, ASSIGNMENT_FIELD_STATUSES, ASSIGNMENT_TRANSITIONS, type AssignmentFieldStatus, type AssignmentStatus, type IncidentStatus } from "../../generated/incidents";
import type { EventType } from "../../generated/events";
import { inTopics } from "../../lib/events";

// The statuses and the lifecycle are the server's (generated: make contracts); the words are the PWA's.
export type { AssignmentStatus } from "../../generated/incidents";
export type FieldStatus = AssignmentFieldStatus;

export const STATUS_LABEL: Record<string, string> & Record<AssignmentStatus, string> = {
  offered: "Offered",
  acknowledged: "Seen by team",
  accepted: "Accepted",
  en_route: "En route",
  on_scene: "On scene",
  transporting: "Transporting",
  at_facility: "At facility",
  cleared: "Clear",
  declined: "Declined",
  expired: "Expired",
  cancelled: "Cancelled",
};

/** The seeded behavioural-health call types (incidents migration 0002): local code → description. */
export const CALL_TYPES: Array<[string, string]> = [
  ["EDP", "Emotional disturbance"],
  ["MNTL", "Mental health, non-violent"],
  ["MTLV", "Mental health, violent"],
  ["SUICIDE", "Suicide"],
  ["SUICTHRT", "Suicide attempt or threat"],
  ["WELFARE", "Welfare check"],
  ["OD", "Overdose"],
  ["INTOX", "Intoxicated person"],
  ["PERUNCON", "Person unconscious"],
  ["TROUBLE", "Trouble, unknown"],
  ["DISORD", "Disorderly"],
  ["TRESPASS", "Trespass"],
  ["BARICADE", "Barricaded person"],
];

/** "Suicide attempt or threat (SUICTHRT)" from what the server sent, with the seeded list as fallback. */
export function callTypeLabel(code: string | undefined, description?: string): string {
  const text = description || CALL_TYPES.find(([c]) => c === code)?.[1];
  if (!code) return description || "Call";
  return text ? `${text} (${code})` : code;
}

/** NENA EIDO incident status values (the incident follows its assignment) → words. */
export const INCIDENT_STATUS_LABEL: Record<string, string> & Record<IncidentStatus, string> = {
  Active: "Active",
  ResourcesAssigned: "Team assigned",
  ResourcesEnroute: "Team en route",
  ResourcesOnscene: "Team on scene",
  Closed: "Closed",
  Cancelled: "Cancelled",
  ReOpened: "Re-opened",
};

export function incidentStatusLabel(status: string): string {
  return INCIDENT_STATUS_LABEL[status] ?? status;
}

/** The order of the status buttons (the lifecycle order). */
export const FIELD_ORDER: readonly FieldStatus[] = ASSIGNMENT_FIELD_STATUSES;

/** The server's TRANSITIONS restricted to the field statuses: the legal next ones from `status`, in lifecycle order. */
export function nextStatuses(status: string): FieldStatus[] {
  return FIELD_ORDER.filter((to) => (ASSIGNMENT_TRANSITIONS[to] ?? []).some((from) => from === status));
}

export function isIncoming(status: string): boolean {
  return status === "offered" || status === "acknowledged";
}

export const ACTIVE_STATUSES: ReadonlySet<string> = new Set<string>(ASSIGNMENT_ACTIVE_STATUSES);

export function isActive(status: string): boolean {
  return ACTIVE_STATUSES.has(status);
}

export interface Safety {
  weapon_present?: boolean;
  weapon_kind?: string;
  violence_toward_responders?: boolean;
  substances_involved?: boolean;
  premise_hazards?: string;
  safety_notes?: string;
}

/** The incident as the inbox gives it (fields an officer may not see are absent). */
export interface InboxIncident extends Safety {
  id: number;
  call_type_code?: string;
  call_type_description?: string;
  priority?: number;
  priority_local?: string;
  address?: string;
  latitude?: number | null;
  longitude?: number | null;
  beat?: string;
  received_at?: string;
  status?: string;
  subject_name?: string;
}

export interface InboxItem {
  id: number;
  incident_id: number;
  team: { id: number; call_sign: string };
  status: string;
  offered_at?: string;
  accepted_at?: string | null;
  incident: InboxIncident;
  /** Cursor of the `assignment.offered` event in my stream (for the "seen" receipt), when known. */
  offer_cursor?: number;
}

export interface LiveEvent {
  cursor: number;
  type: EventType;
  data: Record<string, unknown>;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** An inbox row built from an `assignment.offered` payload (dispatch fields only). */
export function itemFromOffer(event: LiveEvent): InboxItem | null {
  const d = event.data;
  const id = num(d.assignment_id);
  const incidentId = num(d.incident_id);
  const teamId = num(d.team_id);
  if (id === null || incidentId === null || teamId === null) return null;
  const safety = (d.safety && typeof d.safety === "object" ? d.safety : {}) as Safety;
  const incident: InboxIncident = { id: incidentId, ...safety };
  const callType = str(d.call_type);
  if (callType !== undefined) incident.call_type_code = callType;
  const priority = num(d.priority);
  if (priority !== null) incident.priority = priority;
  const address = str(d.address);
  if (address !== undefined) incident.address = address;
  const beat = str(d.beat);
  if (beat !== undefined) incident.beat = beat;
  const subject = str(d.subject_name);
  if (subject) incident.subject_name = subject;
  return {
    id,
    incident_id: incidentId,
    team: { id: teamId, call_sign: str(d.team_call_sign) ?? "" },
    status: str(d.status) ?? "offered",
    incident,
    offer_cursor: event.cursor,
  };
}

/**
 * Applies one live event to my team's inbox. `teamId` is my team (null: not on shift, ignore
 * offers). Unknown or unrelated events return the same array (so callers can compare by identity).
 */
export function applyAssignmentEvent(items: InboxItem[], event: LiveEvent, teamId: number | null): InboxItem[] {
  if (!inTopics(event, ["assignment"])) return items;
  const id = num(event.data.assignment_id);
  if (id === null) return items;
  const status = str(event.data.status);
  const idx = items.findIndex((i) => i.id === id);
  if (event.type === "assignment.offered") {
    if (teamId === null || num(event.data.team_id) !== teamId) return items;
    const fresh = itemFromOffer(event);
    if (!fresh) return items;
    if (idx >= 0) {
      const copy = items.slice();
      copy[idx] = { ...items[idx]!, offer_cursor: event.cursor };
      return copy;
    }
    return [...items, fresh];
  }
  if (idx < 0 || !status) return items;
  if (!isActive(status)) return items.filter((i) => i.id !== id);
  const copy = items.slice();
  copy[idx] = { ...items[idx]!, status };
  return copy;
}

/**
 * Merges a REST inbox answer with what we knew (keeps the offer cursors the REST rows lack).
 * The server's rows win for everything else.
 */
export function mergeInbox(known: InboxItem[], fromServer: InboxItem[]): InboxItem[] {
  const cursors = new Map(known.map((i) => [i.id, i.offer_cursor]));
  return fromServer
    .filter((i) => isActive(i.status))
    .map((i) => {
      const c = cursors.get(i.id);
      return c === undefined ? i : { ...i, offer_cursor: c };
    });
}

/**
 * Statuses set on this device whose writes are still queued (no signal): shown instead of the
 * server's older status, so a reload does not bring back a button already tapped. Ended ones
 * (declined) leave the list. The map is cleared when the outbox has nothing pending.
 */
export function withPending(items: InboxItem[], pending: ReadonlyMap<number, string>): InboxItem[] {
  if (pending.size === 0) return items;
  return items
    .map((i) => {
      const s = pending.get(i.id);
      return s === undefined ? i : { ...i, status: s };
    })
    .filter((i) => isActive(i.status));
}

/** The offer to show full screen: the oldest incoming one. */
export function incomingOf(items: InboxItem[]): InboxItem | null {
  return items.find((i) => isIncoming(i.status)) ?? null;
}

/** The assignment the pair is working: the first accepted-or-later one. */
export function activeOf(items: InboxItem[]): InboxItem | null {
  return items.find((i) => isActive(i.status) && !isIncoming(i.status)) ?? null;
}

/** Safety flags as short strings, most dangerous first (shown before anything else). */
export function safetyFlags(s: Safety): string[] {
  const out: string[] = [];
  if (s.weapon_present) out.push(s.weapon_kind ? `Weapon: ${s.weapon_kind}` : "Weapon present");
  if (s.violence_toward_responders) out.push("Violence toward responders");
  if (s.substances_involved) out.push("Substances involved");
  if (s.premise_hazards) out.push(`Hazard: ${s.premise_hazards}`);
  return out;
}

/** A `geo:` URI the phone's map app opens (RFC 5870; `q=` is the address for Android/iOS apps). */
export function mapUri(incident: Pick<InboxIncident, "latitude" | "longitude" | "address">): string | null {
  const q = incident.address ? `?q=${encodeURIComponent(incident.address)}` : "";
  const lat = incident.latitude;
  const lon = incident.longitude;
  if (typeof lat === "number" && typeof lon === "number") return `geo:${lat},${lon}${q}`;
  if (incident.address) return `geo:0,0${q}`;
  return null;
}
