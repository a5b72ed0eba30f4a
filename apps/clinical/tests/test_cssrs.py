"""The C-SSRS screener: every answer combination the skip logic allows, and the refusals."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from apps.clinical import cssrs
from apps.clinical.models import CssrsScreen, Encounter

from .conftest import write

B = (True, False)


def valid_combinations() -> list[dict[str, bool | None]]:
    rows = []
    for q1, q2, q6 in itertools.product(B, B, B):
        middles = itertools.product(B, B, B) if q2 else [(None, None, None)]
        for q3, q4, q5 in middles:
            for q6a in B if q6 else (None,):
                rows.append(
                    {
                        "q1_wish_dead": q1,
                        "q2_active_thoughts": q2,
                        "q3_method": q3,
                        "q4_intent": q4,
                        "q5_plan": q5,
                        "q6_behavior": q6,
                        "q6a_past_3_months": q6a,
                    }
                )
    return rows


def expected_risk(row: dict[str, bool | None]) -> str:
    """DOMAIN.md §4 written as a table of conditions, highest first (independent of the code)."""
    table = [
        ("high", row["q4_intent"] is True),
        ("high", row["q5_plan"] is True),
        ("high", row["q6_behavior"] is True and row["q6a_past_3_months"] is True),
        ("moderate", row["q3_method"] is True),
        ("moderate", row["q6_behavior"] is True and row["q6a_past_3_months"] is False),
        ("low", row["q1_wish_dead"] is True),
        ("low", row["q2_active_thoughts"] is True),
    ]
    return next((risk for risk, applies in table if applies), "none")


VALID = valid_combinations()


def test_the_skip_logic_allows_exactly_54_answer_sets() -> None:
    # q1 × q2(no: 1 | yes: 2³) × q6(no: 1 | yes: 2) = 2 × 9 × 3
    assert len(VALID) == 54
    every = itertools.product((True, False, None), repeat=7)
    allowed = [c for c in every if not cssrs.skip_logic_errors(cssrs.Answers(*c))]
    assert len(allowed) == 54


@pytest.mark.parametrize(
    "row", VALID, ids=lambda r: "".join("Y" if v else "n" if v is False else "-" for v in r.values())
)
def test_risk_rule_over_every_allowed_combination(row: dict[str, bool | None]) -> None:
    answers = cssrs.Answers(**row)
    assert cssrs.skip_logic_errors(answers) == {}
    assert cssrs.compute_risk(answers) == expected_risk(row)


def test_risk_distribution_is_what_the_rule_implies() -> None:
    counts: dict[str, int] = {}
    for row in VALID:
        risk = cssrs.compute_risk(cssrs.Answers(**row))
        counts[risk] = counts.get(risk, 0) + 1
    # none: all no (1). low: q1 alone (1) or q2 yes with 3–5 no (q1 either: 2), q6 no → 3.
    # moderate: q3 alone with q6 no (2) + q6 older than 3 months with 4, 5 no (q2 no: 2, q2 yes: 2×2) → 8.
    assert counts == {"none": 1, "low": 3, "moderate": 8, "high": 42}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"q1_wish_dead": False, "q2_active_thoughts": False, "q3_method": True, "q6_behavior": False}, "q3_method"),
        ({"q1_wish_dead": True, "q2_active_thoughts": True, "q6_behavior": False}, "q4_intent"),
        ({"q1_wish_dead": True, "q2_active_thoughts": False, "q6_behavior": True}, "q6a_past_3_months"),
        (
            {"q1_wish_dead": True, "q2_active_thoughts": False, "q6_behavior": False, "q6a_past_3_months": True},
            "q6a_past_3_months",
        ),
        ({"q2_active_thoughts": False, "q6_behavior": False}, "q1_wish_dead"),
        ({"q1_wish_dead": "yes", "q2_active_thoughts": False, "q6_behavior": False}, "q1_wish_dead"),
        ({"q1_wish_dead": 1, "q2_active_thoughts": False, "q6_behavior": False}, "q1_wish_dead"),
        ({"q1_wish_dead": True, "q2_active_thoughts": False, "q6_behavior": False, "q7": True}, "q7"),
    ],
)
def test_bad_screens_are_refused_and_nothing_is_saved(
    api: Any, clinician_a: Any, encounter_a: Encounter, body: dict[str, Any], field: str
) -> None:
    res = write(api(clinician_a), "post", f"/api/v1/clinical/encounters/{encounter_a.pk}/screens/", body)
    assert res.status_code == 400, res.json()
    assert field in res.json()["errors"]
    assert not CssrsScreen.objects.exists()
    encounter_a.refresh_from_db()
    assert encounter_a.risk_level == ""


NO_RISK = {"q1_wish_dead": False, "q2_active_thoughts": False, "q6_behavior": False}
HIGH = {
    "q1_wish_dead": True,
    "q2_active_thoughts": True,
    "q3_method": True,
    "q4_intent": True,
    "q5_plan": False,
    "q6_behavior": False,
}


def test_server_computes_and_stores_risk_with_rule_version(api: Any, clinician_a: Any, encounter_a: Encounter) -> None:
    res = write(api(clinician_a), "post", f"/api/v1/clinical/encounters/{encounter_a.pk}/screens/", HIGH)
    assert res.status_code == 201, res.json()
    assert res.json()["risk_level"] == "high"
    screen = CssrsScreen.objects.get()
    assert (screen.computed_risk, screen.rule_version) == ("high", cssrs.RULE_VERSION)


def test_a_clinician_may_raise_the_risk_with_a_reason(api: Any, clinician_a: Any, encounter_a: Encounter) -> None:
    body = {**NO_RISK, "override_risk": "moderate", "override_reason": "Recent loss, access to firearm"}
    res = write(api(clinician_a), "post", f"/api/v1/clinical/encounters/{encounter_a.pk}/screens/", body)
    assert res.status_code == 201, res.json()
    assert res.json()["risk_level"] == "moderate"
    assert CssrsScreen.objects.get().computed_risk == "none"


@pytest.mark.parametrize(
    ("override", "reason", "field"),
    [("low", "looks calm", "override_risk"), ("high", "same", "override_risk"), ("high", "", None)],
)
def test_lowering_or_unexplained_override_is_refused(
    api: Any, clinician_a: Any, encounter_a: Encounter, override: str, reason: str, field: str | None
) -> None:
    base = HIGH if field else NO_RISK
    body = {**base, "override_risk": override, "override_reason": reason}
    res = write(api(clinician_a), "post", f"/api/v1/clinical/encounters/{encounter_a.pk}/screens/", body)
    assert res.status_code == 400, res.json()
    assert (field or "override_reason") in res.json()["errors"]
    assert not CssrsScreen.objects.exists()


def test_moderate_risk_prompts_safety_plan_referral_and_follow_up(
    api: Any, clinician_a: Any, encounter_a: Encounter
) -> None:
    body = {
        "q1_wish_dead": True,
        "q2_active_thoughts": True,
        "q3_method": True,
        "q4_intent": False,
        "q5_plan": False,
        "q6_behavior": False,
    }
    res = write(api(clinician_a), "post", f"/api/v1/clinical/encounters/{encounter_a.pk}/screens/", body)
    assert res.json()["risk_level"] == "moderate"
    assert res.json()["prompts"] == ["safety_plan", "referral", "follow_up"]
