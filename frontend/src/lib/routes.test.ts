import { describe, expect, it } from "vitest";
import { homeForRoles, homesForRoles } from "./routes";

describe("role home routing", () => {
  it.each([
    [["officer"], "/team"],
    [["clinician"], "/team"],
    [["dispatcher"], "/dispatch"],
    [["care_navigator"], "/followups"],
    [["supervisor"], "/board"],
    [["clinical_supervisor"], "/board"],
    [["admin"], "/board"],
    [["analyst"], "/board"],
  ])("sends %j to %s", (roles, home) => {
    expect(homeForRoles(roles)).toBe(home);
  });

  it("picks the first match in priority order for several roles, whatever order the server lists them", () => {
    expect(homeForRoles(["supervisor", "dispatcher"])).toBe("/dispatch");
    expect(homeForRoles(["analyst", "care_navigator", "clinician"])).toBe("/team");
    expect(homeForRoles(["admin", "care_navigator"])).toBe("/followups");
  });

  it("offers every home a person's roles allow, for the role switcher", () => {
    expect(homesForRoles(["admin", "dispatcher", "officer"]).map((h) => h.path)).toEqual(["/team", "/dispatch", "/board"]);
    expect(homesForRoles(["officer", "clinician"]).map((h) => h.path)).toEqual(["/team"]);
  });

  it("has an honest place for an account without a known role", () => {
    expect(homeForRoles([])).toBe("/no-role");
    expect(homeForRoles(["janitor"])).toBe("/no-role");
  });
});
