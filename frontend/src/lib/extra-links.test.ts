import { describe, expect, it } from "vitest";
import { currentPath, extraLinksForRoles, navigate } from "./routes";

describe("encounter and follow-up links", () => {
  it("clinicians get Encounters and Follow-ups, officers Encounters, care navigators Encounters (Follow-ups is their home)", () => {
    expect(extraLinksForRoles(["clinician"]).map((l) => l.path)).toEqual(["/encounters", "/followups"]);
    expect(extraLinksForRoles(["officer"]).map((l) => l.path)).toEqual(["/encounters"]);
    expect(extraLinksForRoles(["care_navigator"]).map((l) => l.path)).toEqual(["/encounters"]);
    expect(extraLinksForRoles(["dispatcher"]).map((l) => l.path)).toEqual(["/closed"]);
    expect(extraLinksForRoles(["supervisor"]).map((l) => l.path)).toEqual(["/closed"]);
    expect(extraLinksForRoles(["analyst"])).toEqual([]);
  });

  it("navigating keeps the query string in the address, and the route is the pathname", () => {
    navigate("/encounters/new?incident=5&assignment=9");
    expect(location.pathname + location.search).toBe("/encounters/new?incident=5&assignment=9");
    expect(currentPath.value).toBe("/encounters/new");
  });
});
