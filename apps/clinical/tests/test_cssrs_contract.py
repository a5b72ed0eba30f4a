"""The C-SSRS rule against the shared fixture contracts/cssrs_cases.json.

The PWA's copy of the rule (frontend/src/lib/cssrs.ts) is checked against the same file by
frontend/src/lib/cssrs.contract.test.ts, so the two implementations cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apps.clinical import cssrs
from apps.clinical.models import CssrsScreen, Encounter

from .conftest import write

FIXTURE = Path(__file__).resolve().parents[3] / "contracts" / "cssrs_cases.json"
DOC: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = DOC["cases"]


def _answers(case: dict[str, Any]) -> cssrs.Answers:
    return cssrs.Answers(**case["answers"])


def test_the_fixture_describes_this_rule() -> None:
    assert DOC["rule_version"] == cssrs.RULE_VERSION, "the rule changed: review contracts/cssrs_cases.json"
    assert tuple(DOC["questions"]) == cssrs.QUESTIONS
    assert all(tuple(c["answers"]) == cssrs.QUESTIONS for c in CASES)
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))


def test_the_fixture_reaches_every_branch_of_the_rule() -> None:
    """Each skip-logic refusal (field and reason) and each line of the risk rule is the outcome of a case."""
    refusals: set[tuple[str, str]] = set()
    for case in CASES:
        for field, messages in cssrs.skip_logic_errors(_answers(case)).items():
            refusals.update((field, m.split(":")[0]) for m in messages)
    always = {(q, "This question is always asked") for q in ("q1_wish_dead", "q2_active_thoughts", "q6_behavior")}
    middle = ("q3_method", "q4_intent", "q5_plan")
    asked = {(q, "Asked when question 2 is yes") for q in middle}
    skipped = {(q, "Skipped when question 2 is no") for q in middle}
    six_a = {
        ("q6a_past_3_months", "Asked when question 6 is yes"),
        ("q6a_past_3_months", "Skipped when question 6 is no"),
    }
    assert refusals == always | asked | skipped | six_a

    # DOMAIN.md §4 as a decision list; every line must be the deciding one for some valid case.
    lines: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
        ("high", lambda a: a["q4_intent"] is True),
        ("high", lambda a: a["q5_plan"] is True),
        ("high", lambda a: a["q6_behavior"] is True and a["q6a_past_3_months"] is True),
        ("moderate", lambda a: a["q3_method"] is True),
        ("moderate", lambda a: a["q6_behavior"] is True and a["q6a_past_3_months"] is False),
        ("low", lambda a: a["q1_wish_dead"] is True),
        ("low", lambda a: a["q2_active_thoughts"] is True),
        ("none", lambda a: True),
    ]
    deciding: set[int] = set()
    for case in CASES:
        if case["errors"]:
            continue
        index = next(i for i, (_, applies) in enumerate(lines) if applies(case["answers"]))
        assert lines[index][0] == case["risk"], case["name"]
        deciding.add(index)
    assert deciding == set(range(len(lines)))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rule_matches_the_fixture(case: dict[str, Any]) -> None:
    answers = _answers(case)
    assert sorted(cssrs.skip_logic_errors(answers)) == sorted(case["errors"])
    if not case["errors"]:
        assert cssrs.compute_risk(answers) == case["risk"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_screens_api_matches_the_fixture(
    api: Any, clinician_a: Any, encounter_a: Encounter, case: dict[str, Any]
) -> None:
    """The answers as the PWA sends them (null for a question not asked)."""
    res = write(api(clinician_a), "post", f"/api/v1/clinical/encounters/{encounter_a.pk}/screens/", case["answers"])
    if case["errors"]:
        assert res.status_code == 400, res.json()
        assert sorted(res.json()["errors"]) == sorted(case["errors"])
        assert not CssrsScreen.objects.exists()
    else:
        assert res.status_code == 201, res.json()
        assert res.json()["risk_level"] == case["risk"]
        screen = CssrsScreen.objects.get()
        assert (screen.computed_risk, screen.rule_version) == (case["risk"], cssrs.RULE_VERSION)
