import { describe, expect, it } from "vitest";
import { EMPTY_LIVE, ageText, appText, applyDispatchEvent, deliveryOf, loadDeliveryBoard, reachText, teamReceipts } from "./model";

const offer = { id: "ev-1", type: "assignment.offered" as const, data: { assignment_id: 7, team_id: 1, status: "offered" } };

function receipt(device: string, user: number, delivered: string | null, seen: string | null) {
  return { id: `r-${device}-${seen ?? delivered}`, type: "delivery.updated" as const, data: { event_id: "ev-1", event_type: "assignment.offered", subject: null, user_id: user, device_id: device, delivered_at: delivered, seen_at: seen } };
}

describe("dispatch live state", () => {
  it("ties receipts to the assignment through the offer event id, per device", () => {
    let live = applyDispatchEvent(EMPTY_LIVE, offer);
    live = applyDispatchEvent(live, receipt("d-a", 10, "t1", null));
    live = applyDispatchEvent(live, receipt("d-b", 11, "t2", null));
    live = applyDispatchEvent(live, receipt("d-a", 10, "t1", "t3"));
    const rows = teamReceipts(live, 7, new Set([10, 11]));
    expect(rows).toEqual([
      { device_id: "d-a", user_id: 10, delivered_at: "t1", seen_at: "t3" },
      { device_id: "d-b", user_id: 11, delivered_at: "t2", seen_at: null },
    ]);
  });
  it("leaves out receipts of people not on the team (the dispatcher's own screen)", () => {
    let live = applyDispatchEvent(EMPTY_LIVE, offer);
    live = applyDispatchEvent(live, receipt("d-disp", 99, "t1", null));
    expect(teamReceipts(live, 7, new Set([10, 11]))).toEqual([]);
  });
  it("never moves a receipt backwards", () => {
    let live = applyDispatchEvent(EMPTY_LIVE, offer);
    live = applyDispatchEvent(live, receipt("d-a", 10, "t1", "t2"));
    live = applyDispatchEvent(live, receipt("d-a", 10, "t9", null));
    expect(teamReceipts(live, 7, new Set([10]))[0]).toMatchObject({ delivered_at: "t1", seen_at: "t2" });
  });
  it("loads the delivery board and finds rows by subject", () => {
    const live = loadDeliveryBoard(EMPTY_LIVE, [
      { subject: "assignment:9", event_id: "ev-9", pushed_at: "p", devices: [{ device_id: "d-x", user_id: 10, delivered_at: "a", seen_at: null }] },
    ]);
    expect(live.offers[9]).toBe("ev-9");
    expect(teamReceipts(live, 9, new Set([10]))).toHaveLength(1);
  });
  it("raises an escalation banner per stage and clears it when the assignment is answered", () => {
    let live = applyDispatchEvent(EMPTY_LIVE, { id: "e2", type: "delivery.alert", data: { subject: "assignment:7", team: "CR-A", stage: "alert", fired_at: "t" } });
    live = applyDispatchEvent(live, { id: "e3", type: "delivery.alert", data: { subject: "assignment:7", team: "CR-A", stage: "alert", fired_at: "t" } });
    expect(live.alerts).toHaveLength(1);
    expect(live.alerts[0]).toMatchObject({ team: "CR-A", stage: "alert" });
    live = applyDispatchEvent(live, { id: "e4", type: "assignment.accepted", data: { assignment_id: 7, status: "accepted" } });
    expect(live.alerts).toEqual([]);
  });
  it("ignores unrelated events without copying", () => {
    expect(applyDispatchEvent(EMPTY_LIVE, { id: "x", type: "incident.updated", data: {} })).toBe(EMPTY_LIVE);
  });
  it("formats ages", () => {
    expect(ageText(42)).toBe("42 s");
    expect(ageText(600)).toBe("10 min");
    expect(ageText(3 * 3600 + 120)).toBe("3 h 2 min");
  });
});

describe("telephone stages per member", () => {
  const row = {
    subject: "assignment:7",
    event_id: "ev-1",
    pushed_at: "2030-01-01T10:00:20Z",
    phone_stages: "on",
    devices: [],
    reach: [
      {
        user_id: 10,
        push: { subscribed: true, sent_at: "2030-01-01T10:00:20Z" },
        sms: { status: "sent", provider_status: "delivered", sent_at: "s", delivered_at: "d", answered_at: null, replied_at: null, reply: "", detail: "" },
        voice: null,
        reply: null,
      },
      {
        user_id: 11,
        push: { subscribed: false, sent_at: null },
        sms: { status: "skipped", provider_status: "", sent_at: null, delivered_at: null, answered_at: null, replied_at: null, reply: "", detail: "no verified phone number" },
        voice: null,
        reply: null,
      },
    ],
  };

  it("loads who was reached how from the delivery board", () => {
    const live = loadDeliveryBoard(EMPTY_LIVE, [row]);
    const delivery = deliveryOf(live, 7);
    expect(reachText(delivery?.reach?.[10])).toEqual(["push sent", "SMS delivered"]);
    expect(reachText(delivery?.reach?.[11])).toEqual(["SMS skipped (no verified phone number)"]);
    expect(delivery?.phone_stages).toBe("on");
  });

  it("follows notification.stage events: a call answered, then a reply by keypad", () => {
    let live = loadDeliveryBoard(EMPTY_LIVE, [row]);
    const stage = (data: Record<string, unknown>) => ({
      id: `n-${String(data.provider_status)}`,
      type: "notification.stage" as const,
      data: { subject: "assignment:7", event_id: "ev-1", user_id: 10, channel: "voice", status: "sent", sent_at: "s", delivered_at: null, answered_at: null, replied_at: null, reply: "", detail: "", ...data },
    });
    live = applyDispatchEvent(live, stage({ provider_status: "ringing" }));
    expect(reachText(deliveryOf(live, 7)?.reach?.[10])).toEqual(["push sent", "SMS delivered", "calling"]);
    live = applyDispatchEvent(live, stage({ provider_status: "in-progress", answered_at: "a" }));
    live = applyDispatchEvent(live, stage({ provider_status: "in-progress", answered_at: "a", replied_at: "r", reply: "decline" }));
    expect(reachText(deliveryOf(live, 7)?.reach?.[10])).toEqual(["push sent", "SMS delivered", "call answered", "replied: decline (keypad)"]);
  });

  it("ignores a malformed stage event", () => {
    const live = loadDeliveryBoard(EMPTY_LIVE, [row]);
    expect(applyDispatchEvent(live, { id: "x", type: "notification.stage", data: { event_id: "ev-1", channel: "fax", user_id: 10 } })).toBe(live);
  });

  it("says seen in the app before delivered", () => {
    const devices = [
      { device_id: "a", user_id: 10, delivered_at: "t1", seen_at: null },
      { device_id: "b", user_id: 10, delivered_at: "t1", seen_at: "t2" },
    ];
    expect(appText(devices, 10)).toBe("seen in the app");
    expect(appText(devices.slice(0, 1), 10)).toBe("delivered to the app");
    expect(appText(devices, 11)).toBe("");
  });
});
