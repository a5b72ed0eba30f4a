import { describe, expect, it } from "vitest";
import { EVENT_TYPES, type EventType } from "../generated/events";
import { inTopics, isEventType, topicOf, type AppEvent } from "./events";

// Any string at run time (the cast stands for what a socket frame could carry).
const event = (type: string, data: Record<string, unknown> = {}): AppEvent => ({ cursor: 1, id: "e", type: type as EventType, created_at: "", data });

describe("event names come from the server's registry", () => {
  it("matches topics and types", () => {
    expect(topicOf("shift.updated")).toBe("shift");
    expect(inTopics(event("shift.updated"), ["shift", "team"])).toBe(true);
    expect(inTopics(event("team.deleted"), ["shift", "team"])).toBe(true);
    expect(inTopics(event("shiftx.updated"), ["shift"])).toBe(false);
    expect(inTopics(event("delivery.updated"), ["shift", "team"])).toBe(false);
    const e = event("shift.created", { shift_id: 4, team_id: 2, team_call_sign: "CR-B", member_ids: [7] });
    expect(isEventType(e, "shift.created", "shift.updated")).toBe(true);
    expect(isEventType(e, "shift.deleted")).toBe(false);
    if (isEventType(e, "shift.created")) expect(e.data.team_call_sign).toBe("CR-B"); // typed payload
  });

  it("the PWA's topics are registered types", () => {
    const topics = new Set(EVENT_TYPES.map(topicOf));
    for (const t of ["incident", "assignment", "clinical", "followup", "shift", "team", "delivery", "notification"]) expect(topics).toContain(t);
  });

  it("a listener for a type or topic the server does not declare does not compile", () => {
    // Checked by `npm run typecheck`: if one of these compiled, its @ts-expect-error would be unused
    // and tsc would fail. (At run time the helpers only compare strings.)
    // @ts-expect-error "roster" is not a registered topic
    expect(inTopics(event("roster.changed"), ["roster"])).toBe(true);
    // @ts-expect-error "shift.renamed" is not a registered type
    expect(isEventType(event("shift.renamed"), "shift.renamed")).toBe(true);
    const e = event("assignment.offered");
    // @ts-expect-error an exact comparison with an unregistered type is refused too
    expect(e.type === "assignment.offerd").toBe(false);
  });
});
