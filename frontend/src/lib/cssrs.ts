import { CSSRS_QUESTIONS, RISK_LEVELS, type CssrsQuestion, type RiskLevel } from "../generated/cssrs";

/**
 * C-SSRS screener (DOMAIN.md §4), mirrored from the server's apps/clinical/cssrs.py for display.
 * The server recomputes the risk on every screen; its value is the one that counts.
 *
 * Skip logic: 1, 2 and 6 are always asked; 3–5 only if 2 is yes; 6a only if 6 is yes.
 * Risk: high = 4 or 5 yes, or 6 yes within 3 months; moderate = 3 yes, or 6 yes longer ago;
 * low = only 1 and/or 2 yes; none = all no.
 */

/** The questions (ids as the API names them) and risk levels, lowest first: generated from cssrs.py. */
export const QUESTIONS = CSSRS_QUESTIONS;
export const RISK_ORDER = RISK_LEVELS;

export type Question = CssrsQuestion;
export type Answer = boolean | null;
export type Answers = Record<Question, Answer>;
export type Risk = RiskLevel;

export const QUESTION_TEXT: Record<Question, string> = {
  q1_wish_dead: "1. In the past month, have you wished you were dead or wished you could go to sleep and not wake up?",
  q2_active_thoughts: "2. In the past month, have you had any actual thoughts of killing yourself?",
  q3_method: "3. Have you been thinking about how you might do this?",
  q4_intent: "4. Have you had these thoughts and had some intention of acting on them?",
  q5_plan: "5. Have you started to work out or worked out the details of how to kill yourself? Do you intend to carry out this plan?",
  q6_behavior: "6. Have you ever done anything, started to do anything, or prepared to do anything to end your life?",
  q6a_past_3_months: "6a. Was this within the past 3 months?",
};

export function emptyAnswers(): Answers {
  return {
    q1_wish_dead: null,
    q2_active_thoughts: null,
    q3_method: null,
    q4_intent: null,
    q5_plan: null,
    q6_behavior: null,
    q6a_past_3_months: null,
  };
}

/** The questions to show for the answers given so far, in order. */
export function visibleQuestions(a: Answers): Question[] {
  const shown: Question[] = ["q1_wish_dead", "q2_active_thoughts"];
  if (a.q2_active_thoughts === true) shown.push("q3_method", "q4_intent", "q5_plan");
  shown.push("q6_behavior");
  if (a.q6_behavior === true) shown.push("q6a_past_3_months");
  return shown;
}

/** Drops answers to questions the skip logic skips (e.g. 3–5 after 2 turned to no). */
export function normalize(a: Answers): Answers {
  const shown = new Set(visibleQuestions(a));
  const out = emptyAnswers();
  for (const q of QUESTIONS) out[q] = shown.has(q) ? a[q] : null;
  return out;
}

/** Set one answer and re-apply the skip logic. */
export function answer(a: Answers, q: Question, value: Answer): Answers {
  return normalize({ ...a, [q]: value });
}

/** Every shown question answered (the screen can be sent). */
export function isComplete(a: Answers): boolean {
  return visibleQuestions(a).every((q) => a[q] !== null);
}

/** Same rule as the server's skip_logic_errors: empty when the answer set is valid. */
export function skipLogicErrors(a: Answers): Partial<Record<Question, string>> {
  const errors: Partial<Record<Question, string>> = {};
  for (const q of ["q1_wish_dead", "q2_active_thoughts", "q6_behavior"] as const) {
    if (a[q] === null) errors[q] = "This question is always asked.";
  }
  for (const q of ["q3_method", "q4_intent", "q5_plan"] as const) {
    if (a.q2_active_thoughts === true && a[q] === null) errors[q] = "Asked when question 2 is yes.";
    if (a.q2_active_thoughts === false && a[q] !== null) errors[q] = "Skipped when question 2 is no.";
  }
  if (a.q6_behavior === true && a.q6a_past_3_months === null) errors.q6a_past_3_months = "Asked when question 6 is yes.";
  if (a.q6_behavior === false && a.q6a_past_3_months !== null) errors.q6a_past_3_months = "Skipped when question 6 is no.";
  return errors;
}

/** The risk for a complete answer set; null while incomplete. */
export function computeRisk(a: Answers): Risk | null {
  if (!isComplete(a)) return null;
  if (a.q4_intent || a.q5_plan || (a.q6_behavior && a.q6a_past_3_months)) return "high";
  if (a.q3_method || (a.q6_behavior && a.q6a_past_3_months === false)) return "moderate";
  if (a.q1_wish_dead || a.q2_active_thoughts) return "low";
  return "none";
}

/** An override may only raise the risk. */
export function isRaise(computed: Risk, override: Risk): boolean {
  return RISK_ORDER.indexOf(override) > RISK_ORDER.indexOf(computed);
}

export const RISK_LABEL: Record<Risk, string> = { none: "No risk identified", low: "Low risk", moderate: "Moderate risk", high: "High risk" };

/** What DOMAIN.md §4 asks for at each level (shown next to the risk). */
export const RISK_PROMPT: Record<Risk, string> = {
  none: "",
  low: "Offer a safety plan, a referral and a follow-up.",
  moderate: "Complete a safety plan, make a referral and arrange a follow-up.",
  high: "Confirm the safety precautions and record a disposition before signing.",
};
