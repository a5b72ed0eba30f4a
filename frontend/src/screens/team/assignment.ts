/**
 * Assignment lifecycle on the client (docs/incidents.md "Assignment lifecycle"): labels, the legal
 * next statuses a team member may set, and the reducer that applies live events to the inbox.
 * The server stays the truth: every event also triggers a REST reload of the inbox.
 */

import {
  ASSIGNMENT_ACTION_LABELS,
  ASSIGNMENT_ACTIVE_STATUSES,
  ASSIGNMENT_FIELD_STATUSES,
  ASSIGNMENT_STATUS_LABELS,
  ASSIGNMENT_TRANSITIONS,
  INCIDENT_STATUS_LABELS,
  type AssignmentFieldStatus,
} from "../../generated/incidents";
import type { EventType } from "../../generated/events";
import { inTopics } from "../../lib/events";

// The statuses, the lifecycle and the words people read for them are the server's (generated:
// make contracts; apps/incidents/labels.py), never retyped here.
export type { AssignmentStatus } from "../../generated/incidents";
export type FieldStatus = AssignmentFieldStatus;

/** Assignment status → words ("acknowledged" → "Seen by team"). */
export const STATUS_LABEL: Readonly<Record<string, string>> = ASSIGNMENT_STATUS_LABELS;
/** The status buttons ("cleared" → "Clear"). */
export const ACTION_LABEL: Readonly<Record<FieldStatus, string>> = ASSIGNMENT_ACTION_LABELS;

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
export const INCIDENT_STATUS_LABEL: Readonly<Record<string, string>> = INCIDENT_STATUS_LABELS;

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
  /**
   * False while the row comes only from an event: a device signing in replays old offers from its
   * stream, which may have been accepted, withdrawn or expired long ago. The server's inbox confirms
   * the offer is still open before the phone rings or sends "seen" for it (issue 15).
   */
  confirmed?: boolean;
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
    confirmed: false,
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
 * The server's rows win for everything else, and are confirmed: an offer known only from a
 * (replayed) event and absent from the answer is gone.
 */
export function mergeInbox(known: InboxItem[], fromServer: InboxItem[]): InboxItem[] {
  const cursors = new Map(known.map((i) => [i.id, i.offer_cursor]));
  return fromServer
    .filter((i) => isActive(i.status))
    .map((i) => {
      const c = cursors.get(i.id);
      const row = { ...i, confirmed: true };
      return c === undefined ? row : { ...row, offer_cursor: c };
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

/**
 * The offer to show full screen: the oldest incoming one the server has confirmed (or any, while the
 * server cannot be reached: an offer that arrived live must not wait for a REST answer that may not come).
 */
export function incomingOf(items: InboxItem[], { serverReachable = true }: { serverReachable?: boolean } = {}): InboxItem | null {
  return items.find((i) => isIncoming(i.status) && (i.confirmed !== false || !serverReachable)) ?? null;
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

export type MapPlatform = "ios" | "android" | "web";

/** Which maps app a link should open, from the browser's user agent (iPadOS may say "Macintosh" with touch). */
export function mapPlatform(userAgent: string, touchPoints = 0): MapPlatform {
  if (/iPhone|iPad|iPod/.test(userAgent) || (/Macintosh/.test(userAgent) && touchPoints > 1)) return "ios";
  if (/Android/.test(userAgent)) return "android";
  return "web";
}

/**
 * A link that opens the platform's maps app at the call: Apple Maps on iOS (maps.apple.com opens the
 * app), a `geo:` URI on Android (RFC 5870; the label in parentheses names the pin), a neutral web map
 * (OpenStreetMap) elsewhere. With no coordinates, the address is the search. Null when neither is known.
 */
export function mapLink(incident: Pick<InboxIncident, "latitude" | "longitude" | "address">, platform: MapPlatform): string | null {
  const address = incident.address?.trim() ?? "";
  const lat = incident.latitude;
  const lon = incident.longitude;
  const coords = typeof lat === "number" && typeof lon === "number" ? `${lat},${lon}` : null;
  const q = encodeURIComponent(address);
  if (!coords && !address) return null;
  if (platform === "ios") {
    return coords ? `https://maps.apple.com/?ll=${coords}${address ? `&q=${q}` : ""}` : `https://maps.apple.com/?q=${q}`;
  }
  if (platform === "android") {
    return coords ? `geo:${coords}?q=${coords}${address ? `(${q})` : ""}` : `geo:0,0?q=${q}`;
  }
  return coords ? `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}` : `https://www.openstreetmap.org/search?query=${q}`;
}
