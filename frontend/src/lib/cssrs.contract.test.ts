import { describe, expect, it } from "vitest";
import fixture from "../../../contracts/cssrs_cases.json";
import { CSSRS_RULE_VERSION } from "../generated/cssrs";
import { QUESTIONS, computeRisk, isComplete, normalize, skipLogicErrors, visibleQuestions, type Answers, type Risk } from "./cssrs";

/**
 * The PWA's C-SSRS rule against the shared fixture contracts/cssrs_cases.json, which the server's
 * rule (apps/clinical/cssrs.py) and its screens API are tested against too
 * (apps/clinical/tests/test_cssrs_contract.py): the two implementations cannot drift apart.
 */

interface Case {
  name: string;
  answers: Answers;
  errors: string[];
  risk?: Risk;
}

const cases = fixture.cases as Case[];

describe("C-SSRS rule = contracts/cssrs_cases.json", () => {
  it("is the fixture of the server's rule version", () => {
    expect(fixture.rule_version).toBe(CSSRS_RULE_VERSION);
  });

  it("names the same questions in the same order", () => {
    expect([...QUESTIONS]).toEqual(fixture.questions);
    for (const c of cases) expect(Object.keys(c.answers)).toEqual(fixture.questions);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(Object.keys(skipLogicErrors(c.answers)).sort()).toEqual([...c.errors].sort());
    if (c.errors.length === 0) {
      // A valid set: the screen shows exactly the questions it answers, and the risk is the server's.
      expect(visibleQuestions(c.answers)).toEqual(QUESTIONS.filter((q) => c.answers[q] !== null));
      expect(normalize(c.answers)).toEqual(c.answers);
      expect(isComplete(c.answers)).toBe(true);
      expect(computeRisk(c.answers)).toBe(c.risk);
    } else {
      // What the editor would send (answers of skipped questions dropped) is sent only when the
      // server takes it; a set still missing an answer is not complete and has no risk yet.
      const sent = normalize(c.answers);
      if (isComplete(sent)) expect(skipLogicErrors(sent)).toEqual({});
      else expect(computeRisk(sent)).toBeNull();
      const missing = c.errors.some((q) => c.answers[q as keyof Answers] === null);
      expect(isComplete(c.answers)).toBe(!missing);
    }
  });
});
