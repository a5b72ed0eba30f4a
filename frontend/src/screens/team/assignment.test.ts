import { describe, expect, it } from "vitest";
import {
  FIELD_ORDER,
  activeOf,
  callTypeLabel,
  applyAssignmentEvent,
  incomingOf,
  mapLink,
  mapPlatform,
  mergeInbox,
  withPending,
  nextStatuses,
  safetyFlags,
  type InboxItem,
} from "./assignment";

const offerData = {
  assignment_id: 7,
  incident_id: 3,
  team_id: 1,
  team_call_sign: "CR-A",
  status: "offered",
  call_type: "WELFARE",
  priority: 6,
  address: "1 Main St",
  beat: "D1",
  safety: { weapon_present: true, weapon_kind: "knife", violence_toward_responders: false, substances_involved: true, premise_hazards: "" },
};

describe("legal next statuses", () => {
  it("follows the lifecycle table for the field statuses", () => {
    expect(nextStatuses("accepted")).toEqual(["en_route"]);
    expect(nextStatuses("en_route")).toEqual(["on_scene"]);
    expect(nextStatuses("on_scene")).toEqual(["transporting", "cleared"]);
    expect(nextStatuses("transporting")).toEqual(["at_facility", "cleared"]);
    expect(nextStatuses("at_facility")).toEqual(["cleared"]);
  });
  it("offers no status button before acceptance or after the end", () => {
    for (const s of ["offered", "acknowledged", "cleared", "declined", "expired", "cancelled", "nonsense"]) expect(nextStatuses(s)).toEqual([]);
  });
  it("never offers a step backwards", () => {
    for (const [i, s] of FIELD_ORDER.entries()) for (const n of nextStatuses(s)) expect(FIELD_ORDER.indexOf(n)).toBeGreaterThan(i);
  });
});

describe("assignment reducer", () => {
  it("adds an offer for my team with its cursor and dispatch fields", () => {
    const items = applyAssignmentEvent([], { cursor: 12, type: "assignment.offered", data: offerData }, 1);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: 7, incident_id: 3, status: "offered", offer_cursor: 12 });
    expect(items[0]!.incident).toMatchObject({ call_type_code: "WELFARE", priority: 6, address: "1 Main St", weapon_kind: "knife" });
    // Known from an event only: not shown (nor "seen") until the server's inbox confirms it is still open,
    // unless the server cannot be reached.
    expect(items[0]!.confirmed).toBe(false);
    expect(incomingOf(items)).toBeNull();
    expect(incomingOf(items, { serverReachable: false })?.id).toBe(7);
    const confirmed = mergeInbox(items, [{ ...items[0]!, confirmed: undefined }]);
    expect(incomingOf(confirmed)?.id).toBe(7);
    expect(activeOf(items)).toBeNull();
  });
  it("an old offer replayed at sign-in is never shown when the server no longer lists it", () => {
    const replayed = applyAssignmentEvent([], { cursor: 2, type: "assignment.offered", data: offerData }, 1);
    expect(incomingOf(mergeInbox(replayed, []))).toBeNull();
  });
  it("ignores an offer to another team, and offers when not on shift", () => {
    const ev = { cursor: 1, type: "assignment.offered" as const, data: offerData };
    expect(applyAssignmentEvent([], ev, 2)).toEqual([]);
    expect(applyAssignmentEvent([], ev, null)).toEqual([]);
  });
  it("moves the status on and removes the row when it ends", () => {
    let items = applyAssignmentEvent([], { cursor: 1, type: "assignment.offered", data: offerData }, 1);
    items = applyAssignmentEvent(items, { cursor: 2, type: "assignment.accepted", data: { ...offerData, status: "accepted" } }, 1);
    expect(incomingOf(items, { serverReachable: false })).toBeNull();
    expect(activeOf(items)?.status).toBe("accepted");
    items = applyAssignmentEvent(items, { cursor: 3, type: "assignment.status", data: { ...offerData, status: "on_scene" } }, 1);
    expect(activeOf(items)?.status).toBe("on_scene");
    items = applyAssignmentEvent(items, { cursor: 4, type: "assignment.status", data: { ...offerData, status: "cleared" } }, 1);
    expect(items).toEqual([]);
  });
  it("a cancelled offer leaves the screen", () => {
    let items = applyAssignmentEvent([], { cursor: 1, type: "assignment.offered", data: offerData }, 1);
    items = applyAssignmentEvent(items, { cursor: 2, type: "assignment.cancelled", data: { ...offerData, status: "cancelled" } }, 1);
    expect(incomingOf(items, { serverReachable: false })).toBeNull();
  });
  it("returns the same array for unrelated events", () => {
    const items: InboxItem[] = [];
    expect(applyAssignmentEvent(items, { cursor: 1, type: "shift.updated", data: {} }, 1)).toBe(items);
    expect(applyAssignmentEvent(items, { cursor: 1, type: "assignment.status", data: { assignment_id: 99, status: "en_route" } }, 1)).toBe(items);
  });
  it("a REST reload wins but keeps the offer cursor, and drops ended rows", () => {
    const known = applyAssignmentEvent([], { cursor: 5, type: "assignment.offered", data: offerData }, 1);
    const server: InboxItem[] = [
      { id: 7, incident_id: 3, team: { id: 1, call_sign: "CR-A" }, status: "acknowledged", incident: { id: 3, address: "1 Main St", latitude: 36, longitude: -78.9 } },
      { id: 8, incident_id: 4, team: { id: 1, call_sign: "CR-A" }, status: "declined", incident: { id: 4 } },
    ];
    const merged = mergeInbox(known, server);
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ status: "acknowledged", offer_cursor: 5, confirmed: true });
    expect(merged[0]!.incident.latitude).toBe(36);
  });
});

describe("display helpers", () => {
  it("lists safety flags with the weapon first", () => {
    expect(safetyFlags({ weapon_present: true, weapon_kind: "knife", substances_involved: true, violence_toward_responders: true, premise_hazards: "dog" })).toEqual([
      "Weapon: knife",
      "Violence toward responders",
      "Substances involved",
      "Hazard: dog",
    ]);
    expect(safetyFlags({})).toEqual([]);
  });
  it("opens the platform's maps app, with the address when no coordinates are known", () => {
    const at = { latitude: 35.99, longitude: -78.9, address: "1 Main St, Durham" };
    const noCoords = { latitude: null, longitude: null, address: "1 Main St" };
    expect(mapLink(at, "ios")).toBe("https://maps.apple.com/?ll=35.99,-78.9&q=1%20Main%20St%2C%20Durham");
    expect(mapLink(noCoords, "ios")).toBe("https://maps.apple.com/?q=1%20Main%20St");
    expect(mapLink(at, "android")).toBe("geo:35.99,-78.9?q=35.99,-78.9(1%20Main%20St%2C%20Durham)");
    expect(mapLink(noCoords, "android")).toBe("geo:0,0?q=1%20Main%20St");
    expect(mapLink(at, "web")).toBe("https://www.openstreetmap.org/?mlat=35.99&mlon=-78.9#map=17/35.99/-78.9");
    expect(mapLink(noCoords, "web")).toBe("https://www.openstreetmap.org/search?query=1%20Main%20St");
    expect(mapLink({}, "ios")).toBeNull();
    expect(mapLink({ address: "  " }, "web")).toBeNull();
  });
  it("tells the platform from the user agent", () => {
    expect(mapPlatform("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15")).toBe("ios");
    expect(mapPlatform("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15", 5)).toBe("ios");
    expect(mapPlatform("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15", 0)).toBe("web");
    expect(mapPlatform("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124 Mobile")).toBe("android");
    expect(mapPlatform("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/156")).toBe("web");
  });
});

describe("call type label", () => {
  it("prefers the server's description, falls back to the seeded list, then the code", () => {
    expect(callTypeLabel("MTLV", "Violent MH")).toBe("Violent MH (MTLV)");
    expect(callTypeLabel("MTLV")).toBe("Mental health, violent (MTLV)");
    expect(callTypeLabel("LOCAL1")).toBe("LOCAL1");
    expect(callTypeLabel(undefined)).toBe("Call");
  });
});

describe("statuses waiting in the outbox", () => {
  const row = (id: number, status: string): InboxItem => ({ id, incident_id: id, team: { id: 1, call_sign: "CR-A" }, status, incident: { id } });
  it("show over the server's older status, and a queued decline hides the offer", () => {
    const server = [row(1, "accepted"), row(2, "offered")];
    const shown = withPending(server, new Map([[1, "en_route"], [2, "declined"]]));
    expect(shown).toEqual([row(1, "en_route")]);
    expect(withPending(server, new Map())).toBe(server);
  });
});
