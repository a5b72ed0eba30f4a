import { describe, expect, it } from "vitest";
import { deviceId, forgetDeviceCache, isUuid } from "./device";
import { base64UrlToBytes, subscriptionBody } from "./push";

describe("push helpers", () => {
  it("decodes a base64url VAPID key", () => {
    expect(Array.from(base64UrlToBytes("AQID_-8"))).toEqual([1, 2, 3, 255, 239]);
  });
  it("builds the subscribe body and refuses an incomplete subscription", () => {
    expect(subscriptionBody("dev", { endpoint: "https://push.example/x", keys: { p256dh: "p", auth: "a" } })).toEqual({
      device: "dev",
      endpoint: "https://push.example/x",
      keys: { p256dh: "p", auth: "a" },
    });
    expect(subscriptionBody("dev", { endpoint: "https://push.example/x", keys: { p256dh: "p" } })).toBeNull();
  });
});

describe("device id", () => {
  it("is a UUID, kept per user across restarts, different per user", async () => {
    const a = await deviceId(1);
    expect(isUuid(a)).toBe(true);
    forgetDeviceCache(); // as after a restart: read back from IndexedDB
    expect(await deviceId(1)).toBe(a);
    expect(await deviceId(2)).not.toBe(a);
  });
});
