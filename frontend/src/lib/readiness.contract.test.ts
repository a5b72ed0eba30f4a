import { describe, expect, it } from "vitest";
import fixture from "../../../contracts/sign_readiness_cases.json";
import { SIGN_REQUIREMENTS } from "../generated/notes";
import { signMissing, type SignFacts } from "./readiness";

/**
 * The PWA's reading of the sign-readiness rule against contracts/sign_readiness_cases.json, which the
 * server's evaluator and its notes / sign API are tested against too
 * (apps/clinical/tests/test_readiness_contract.py): the app's Sign button and the server's answer agree.
 */

interface Case {
  name: string;
  facts: SignFacts;
  missing: string[];
}

const cases = fixture.cases as Case[];

describe("sign readiness (shared fixture)", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(signMissing(c.facts).map((m) => m.code)).toEqual(c.missing);
  });

  it("every requirement is reached by some case", () => {
    const reached = new Set(cases.flatMap((c) => c.missing));
    expect([...new Set(SIGN_REQUIREMENTS.map((r) => r.code))].filter((code) => !reached.has(code))).toEqual([]);
  });

  it("gives the server's labels, not keys", () => {
    const high = cases.find((c) => c.name === "high_risk_nothing_confirmed") as Case;
    expect(signMissing(high.facts).map((m) => m.label)).toEqual([
      "High risk: confirm “Lethal means addressed”",
      "High risk: confirm “Person not left alone”",
      "High risk: confirm “Supervisor notified”",
      "High risk: confirm “Safety plan reviewed”",
      "High risk: record a disposition decision",
    ]);
  });
});
