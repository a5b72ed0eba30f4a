"""The sign-readiness rule against the shared fixture contracts/sign_readiness_cases.json.

The PWA evaluates the same generated rule (frontend/src/lib/readiness.ts, checked against the same file by
frontend/src/lib/readiness.contract.test.ts), so the app's "Sign" button and the server's refusal cannot
disagree. Each case that can be built through the API is built, and the server's note readiness and its
answer to a sign must say the same.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from apps.clinical.models import ClinicalNote, Encounter
from apps.clinical.readiness import (
    FORMAT_SECTIONS,
    SAFETY_PRECAUTION_LABELS,
    SIGN_REQUIREMENTS,
    SignFacts,
    sign_missing,
)

from .conftest import write

FIXTURE = Path(__file__).resolve().parents[3] / "contracts" / "sign_readiness_cases.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]
LABELS = {r.code: r.label for r in SIGN_REQUIREMENTS}

# A complete C-SSRS answer set for each risk level (DOMAIN.md §4).
SCREENS: dict[str, dict[str, bool]] = {
    "none": {"q1_wish_dead": False, "q2_active_thoughts": False, "q6_behavior": False},
    "low": {"q1_wish_dead": True, "q2_active_thoughts": False, "q6_behavior": False},
    "moderate": {"q1_wish_dead": True, "q2_active_thoughts": True, "q3_method": True, "q4_intent": False}
    | {"q5_plan": False, "q6_behavior": False},
    "high": {"q1_wish_dead": True, "q2_active_thoughts": True, "q3_method": True, "q4_intent": True}
    | {"q5_plan": False, "q6_behavior": False},
}
# Dispositions that may be recorded together (apps/clinical/disposition_rules.py).
COMPATIBLE_DISPOSITIONS = ["transport_ed", "ems_transport", "ivc_initiated"]


def _facts(case: dict[str, Any]) -> SignFacts:
    return SignFacts(**case["facts"])


def test_the_fixture_reaches_every_requirement_and_format() -> None:
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))
    reached = {(c["facts"]["format"], code) for c in CASES for code in c["missing"]}
    # Every requirement is the missing one of some case, in every format it applies to.
    wanted = {(fmt, r.code) for r in SIGN_REQUIREMENTS for fmt in (r.formats or FORMAT_SECTIONS) if r.kind == "section"}
    assert wanted <= reached
    assert {code for _, code in reached} == {r.code for r in SIGN_REQUIREMENTS}
    assert {c["facts"]["format"] for c in CASES} == set(FORMAT_SECTIONS) == set(ClinicalNote.Format.values)
    assert any(c["missing"] == [] for c in CASES if c["facts"]["risk_level"] == "high")


def test_the_rule_names_the_models_choices() -> None:
    """The rule's data is the models' vocabulary (a renamed choice would leave the rule checking nothing)."""
    assert set(FORMAT_SECTIONS) == set(ClinicalNote.Format.values)
    for req in SIGN_REQUIREMENTS:
        assert req.kind in {"section", "screen", "precaution", "disposition"}
        assert set(req.risk_levels) <= set(Encounter.Risk.values)
        if req.kind == "precaution":
            assert req.arg in SAFETY_PRECAUTION_LABELS


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rule_matches_the_fixture(case: dict[str, Any]) -> None:
    assert [r.code for r in sign_missing(_facts(case))] == case["missing"]


def _buildable(case: dict[str, Any]) -> bool:
    facts = case["facts"]
    booleans = all(isinstance(v, bool) for v in facts["safety_precautions"].values())
    return booleans and facts["has_screen"] == (facts["risk_level"] is not None)


@pytest.mark.django_db
@pytest.mark.parametrize("case", [c for c in CASES if _buildable(c)], ids=lambda c: c["name"])
def test_the_server_says_the_same_for_a_real_note(
    api: Any, clinician_a: Any, team_a: Any, on_shift_a: Any, case: dict[str, Any]
) -> None:
    facts = case["facts"]
    client = api(clinician_a)
    eid, nid = str(uuid.uuid4()), str(uuid.uuid4())
    res = write(client, "post", "/api/v1/clinical/encounters/", {"id": eid, "kind": "walk_in", "team_id": team_a.pk})
    assert res.status_code == 201, res.json()
    if facts["risk_level"]:
        res = write(client, "post", f"/api/v1/clinical/encounters/{eid}/screens/", SCREENS[facts["risk_level"]])
        assert res.json()["risk_level"] == facts["risk_level"]
    for code in COMPATIBLE_DISPOSITIONS[: facts["disposition_count"]]:
        assert (
            write(client, "post", f"/api/v1/clinical/encounters/{eid}/dispositions/", {"code": code}).status_code == 201
        )
    body = {
        "id": nid,
        "format": facts["format"],
        "sections": facts["sections"],
        "safety_precautions": facts["safety_precautions"],
    }
    res = write(client, "post", f"/api/v1/clinical/encounters/{eid}/notes/", body)
    assert res.status_code == 201, res.json()

    expected = [{"code": code, "label": LABELS[code]} for code in case["missing"]]
    assert res.json()["readiness"] == {"ready": not expected, "missing": expected}
    encounter = client.get(f"/api/v1/clinical/encounters/{eid}/").json()
    assert encounter["notes"][0]["readiness"]["missing"] == expected

    signed = write(client, "post", f"/api/v1/clinical/notes/{nid}/sign/", {"revision": 1})
    if expected:
        assert signed.status_code == 400, signed.json()
        messages = [m for msgs in signed.json()["errors"].values() for m in msgs]
        assert sorted(messages) == sorted(f"{e['label']}." for e in expected)
        assert ClinicalNote.objects.get(pk=nid).status == "draft"
    else:
        assert signed.status_code == 200, signed.json()
        assert signed.json()["status"] == "signed"
