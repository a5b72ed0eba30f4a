"""C-SSRS screener: skip logic and the risk rule (DOMAIN.md §4). Pure functions, no database.

Items (LOINC): 1 wish to be dead (93246-7); 2 non-specific active suicidal thoughts (93247-5);
3 thoughts with method (93248-3); 4 intent without specific plan (93249-1); 5 intent with plan
(93250-9); 6 suicidal behavior ever (93267-3); 6a within the past 3 months (93269-9).
"""

from __future__ import annotations

from dataclasses import dataclass

RULE_VERSION = "cssrs-screen-2026.1"

RISK_ORDER = ("none", "low", "moderate", "high")

LOINC = {
    "q1_wish_dead": "93246-7",
    "q2_active_thoughts": "93247-5",
    "q3_method": "93248-3",
    "q4_intent": "93249-1",
    "q5_plan": "93250-9",
    "q6_behavior": "93267-3",
    "q6a_past_3_months": "93269-9",
}
QUESTIONS = tuple(LOINC)


@dataclass(frozen=True)
class Answers:
    q1_wish_dead: bool | None
    q2_active_thoughts: bool | None
    q3_method: bool | None
    q4_intent: bool | None
    q5_plan: bool | None
    q6_behavior: bool | None
    q6a_past_3_months: bool | None


def skip_logic_errors(a: Answers) -> dict[str, list[str]]:
    """Field errors for answers the skip logic forbids or requires. Empty when the set is valid.

    Always ask 1, 2 and 6; if 2 is yes ask 3–5, if 2 is no skip them; ask 6a only if 6 is yes.
    """
    errors: dict[str, list[str]] = {}
    for q in ("q1_wish_dead", "q2_active_thoughts", "q6_behavior"):
        if getattr(a, q) is None:
            errors[q] = ["This question is always asked: answer true or false."]
    if a.q2_active_thoughts is True:
        for q in ("q3_method", "q4_intent", "q5_plan"):
            if getattr(a, q) is None:
                errors[q] = ["Asked when question 2 is yes: answer true or false."]
    elif a.q2_active_thoughts is False:
        for q in ("q3_method", "q4_intent", "q5_plan"):
            if getattr(a, q) is not None:
                errors[q] = ["Skipped when question 2 is no: leave it out."]
    if a.q6_behavior is True and a.q6a_past_3_months is None:
        errors["q6a_past_3_months"] = ["Asked when question 6 is yes: answer true or false."]
    if a.q6_behavior is False and a.q6a_past_3_months is not None:
        errors["q6a_past_3_months"] = ["Skipped when question 6 is no: leave it out."]
    return errors


def compute_risk(a: Answers) -> str:
    """high: 4 or 5 yes, or 6 yes within 3 months; moderate: 3 yes, or 6 yes longer ago;
    low: only 1 and/or 2 yes; none: all no. Assumes ``skip_logic_errors(a)`` is empty."""
    if a.q4_intent or a.q5_plan or (a.q6_behavior and a.q6a_past_3_months):
        return "high"
    if a.q3_method or (a.q6_behavior and a.q6a_past_3_months is False):
        return "moderate"
    if a.q1_wish_dead or a.q2_active_thoughts:
        return "low"
    return "none"


def is_raise(*, computed: str, override: str) -> bool:
    return RISK_ORDER.index(override) > RISK_ORDER.index(computed)
