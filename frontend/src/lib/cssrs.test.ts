import { describe, expect, it } from "vitest";
import { QUESTIONS, answer, computeRisk, emptyAnswers, isComplete, isRaise, normalize, skipLogicErrors, visibleQuestions, type Answers, type Risk } from "./cssrs";

/** Every assignment of true/false/null to the seven questions (3^7 = 2187). */
function allCombinations(): Answers[] {
  const out: Answers[] = [];
  const values = [true, false, null] as const;
  const rec = (i: number, acc: Answers) => {
    if (i === QUESTIONS.length) {
      out.push({ ...acc });
      return;
    }
    for (const v of values) rec(i + 1, { ...acc, [QUESTIONS[i] as string]: v });
  };
  rec(0, emptyAnswers());
  return out;
}

/** The allowed complete answer sets, built from the protocol's branches (independent of the code). */
function allowedSets(): Answers[] {
  const sets: Answers[] = [];
  const b = [true, false];
  for (const q1 of b)
    for (const q2 of b)
      for (const q6 of b) {
        const tails: [boolean | null, boolean | null, boolean | null][] = q2 ? b.flatMap((x) => b.flatMap((y) => b.map((z) => [x, y, z] as [boolean, boolean, boolean]))) : [[null, null, null]];
        const q6as: (boolean | null)[] = q6 ? [true, false] : [null];
        for (const [q3, q4, q5] of tails)
          for (const q6a of q6as)
            sets.push({ q1_wish_dead: q1, q2_active_thoughts: q2, q3_method: q3, q4_intent: q4, q5_plan: q5, q6_behavior: q6, q6a_past_3_months: q6a });
      }
  return sets;
}

/** DOMAIN.md §4 written out as a decision list, for comparison. */
function expectedRisk(a: Answers): Risk {
  if (a.q4_intent === true) return "high";
  if (a.q5_plan === true) return "high";
  if (a.q6_behavior === true && a.q6a_past_3_months === true) return "high";
  if (a.q3_method === true) return "moderate";
  if (a.q6_behavior === true && a.q6a_past_3_months === false) return "moderate";
  if (a.q1_wish_dead === true || a.q2_active_thoughts === true) return "low";
  return "none";
}

const key = (a: Answers) => QUESTIONS.map((q) => String(a[q])).join(",");

describe("C-SSRS skip logic", () => {
  it("asks 1, 2 and 6 first; 3–5 only after 2 is yes; 6a only after 6 is yes", () => {
    let a = emptyAnswers();
    expect(visibleQuestions(a)).toEqual(["q1_wish_dead", "q2_active_thoughts", "q6_behavior"]);
    a = answer(a, "q2_active_thoughts", true);
    expect(visibleQuestions(a)).toEqual(["q1_wish_dead", "q2_active_thoughts", "q3_method", "q4_intent", "q5_plan", "q6_behavior"]);
    a = answer(a, "q6_behavior", true);
    expect(visibleQuestions(a)).toContain("q6a_past_3_months");
    a = answer(a, "q2_active_thoughts", false);
    expect(visibleQuestions(a)).toEqual(["q1_wish_dead", "q2_active_thoughts", "q6_behavior", "q6a_past_3_months"]);
  });

  it("drops answers to questions that become skipped", () => {
    let a = emptyAnswers();
    a = answer(a, "q2_active_thoughts", true);
    a = answer(a, "q4_intent", true);
    a = answer(a, "q6_behavior", true);
    a = answer(a, "q6a_past_3_months", true);
    a = answer(a, "q2_active_thoughts", false);
    a = answer(a, "q6_behavior", false);
    expect(a.q4_intent).toBeNull();
    expect(a.q6a_past_3_months).toBeNull();
  });

  it("accepts exactly the protocol's answer sets, over all 2187 combinations", () => {
    const allowed = new Set(allowedSets().map(key));
    expect(allowed.size).toBe(54); // q1: 2 × (q2 no: 1, q2 yes: 2^3 for q3–5) × (q6 no: 1, q6 yes: 2 for 6a)
    let valid = 0;
    for (const a of allCombinations()) {
      const ok = Object.keys(skipLogicErrors(a)).length === 0;
      expect(ok, key(a)).toBe(allowed.has(key(a)));
      // A valid set is complete, stable under normalisation, and shows exactly the answered questions.
      if (ok) {
        valid++;
        expect(isComplete(a)).toBe(true);
        expect(normalize(a)).toEqual(a);
        expect(new Set(visibleQuestions(a))).toEqual(new Set(QUESTIONS.filter((q) => a[q] !== null)));
      }
    }
    expect(valid).toBe(54);
  });

  it("normalising any combination never yields an answer the server would refuse as skipped", () => {
    for (const a of allCombinations()) {
      const n = normalize(a);
      const errors = skipLogicErrors(n);
      for (const msg of Object.values(errors)) expect(msg).not.toMatch(/Skipped/);
    }
  });
});

describe("C-SSRS risk shown", () => {
  it("matches the DOMAIN.md §4 rule for every allowed answer set", () => {
    const seen = new Set<Risk>();
    for (const a of allowedSets()) {
      const r = computeRisk(a);
      expect(r, key(a)).toBe(expectedRisk(a));
      seen.add(r as Risk);
    }
    expect(seen).toEqual(new Set(["none", "low", "moderate", "high"]));
  });

  it("shows no risk while the screen is incomplete", () => {
    expect(computeRisk(emptyAnswers())).toBeNull();
    expect(computeRisk({ ...emptyAnswers(), q1_wish_dead: true, q2_active_thoughts: true, q6_behavior: false })).toBeNull();
  });

  it("spot checks", () => {
    const base = { ...emptyAnswers(), q1_wish_dead: false, q2_active_thoughts: false, q6_behavior: false };
    expect(computeRisk(base)).toBe("none");
    expect(computeRisk({ ...base, q1_wish_dead: true })).toBe("low");
    expect(computeRisk({ ...base, q6_behavior: true, q6a_past_3_months: false })).toBe("moderate");
    expect(computeRisk({ ...base, q6_behavior: true, q6a_past_3_months: true })).toBe("high");
    expect(computeRisk({ ...base, q2_active_thoughts: true, q3_method: true, q4_intent: false, q5_plan: false })).toBe("moderate");
    expect(computeRisk({ ...base, q2_active_thoughts: true, q3_method: false, q4_intent: false, q5_plan: true })).toBe("high");
  });

  it("an override may only raise", () => {
    expect(isRaise("low", "high")).toBe(true);
    expect(isRaise("high", "moderate")).toBe(false);
    expect(isRaise("moderate", "moderate")).toBe(false);
  });
});
