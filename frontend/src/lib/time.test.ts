import { describe, expect, it } from "vitest";
import { formatWindow } from "./time";

describe("shift window", () => {
  it("is shown in America/New_York whatever the device zone", () => {
    // 12:00Z–00:00Z in winter is 7 AM–7 PM EST.
    expect(formatWindow("2025-01-14T12:00:00Z", "2025-01-15T00:00:00Z")).toBe("Tue, Jan 14, 7:00 AM EST – 7:00 PM EST");
  });

  it("repeats the day for an overnight shift, across a DST change", () => {
    expect(formatWindow("2025-03-08T23:00:00Z", "2025-03-09T11:00:00Z")).toBe("Sat, Mar 8, 6:00 PM EST – Sun, Mar 9, 7:00 AM EDT");
  });
});
