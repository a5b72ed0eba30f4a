"""The clinical payloads match their OpenAPI shapes (serializers.EncounterOutput, EncounterListOutput,
NoteOutput), both ways: a key of the wrong type fails, and so does a key the schema does not declare.

encounter_data, encounter_summary and note_data build dicts by hand; the schema only describes them,
and the PWA's TypeScript types are generated from the schema (scripts/export_contracts.py). This test
keeps the description true for every role that reads an encounter, with every part filled in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator, FormatChecker

from .conftest import grant_part2, write


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: ``nullable`` becomes a null alternative, and an object with
    properties allows no other keys (so an undeclared key in a payload is reported)."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items() if key not in ("nullable", "readOnly", "writeOnly")}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _components() -> dict[str, Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    return {"schemas": _json_schema(schema["components"]["schemas"])}


def _problems(component: str, payload: Any) -> list[str]:
    validator = Draft202012Validator(
        {"$ref": f"#/components/schemas/{component}", "components": _components()}, format_checker=FormatChecker()
    )
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(payload)'}: {e.message}" for e in validator.iter_errors(payload)
    ]


@pytest.fixture
def full_encounter(api: Callable[[Any], Any], clinician_a: Any, officer_a: Any, encounter_a: Any, note_a: Any) -> Any:
    """encounter_a with every part: person, high-risk screen, IVC, disposition, safety plan, a signed
    note with an addendum (and Part 2 content), the officer section."""
    clinician = api(grant_part2(clinician_a))
    base = f"/api/v1/clinical/encounters/{encounter_a.pk}"
    steps: list[tuple[Any, str, str, dict[str, Any]]] = [
        (clinician, "post", "/api/v1/clinical/persons/", {"id": str(uuid.uuid4()), "first_name": "Riley"}),
    ]
    for client, method, url, body in steps:
        res = write(client, method, url, body)
        assert res.status_code == 201, res.json()
        person_id = res.json()["id"]
    for client, method, url, body, code in [
        (clinician, "patch", f"{base}/", {"revision": 1, "person_id": person_id}, 200),
        (
            clinician,
            "post",
            f"{base}/screens/",
            {"q1_wish_dead": True, "q2_active_thoughts": True, "q3_method": True, "q4_intent": True}
            | {"q5_plan": False, "q6_behavior": False},
            201,
        ),
        (clinician, "post", f"{base}/dispositions/", {"code": "transport_ed"}, 201),
        (clinician, "put", f"{base}/ivc/", {"pathway": "emergency_122c_262"}, 200),
        (clinician, "post", f"{base}/safety-plans/", {"id": str(uuid.uuid4()), "warning_signs": "Isolation"}, 201),
        (api(officer_a), "put", f"{base}/officer-section/", {"transport": "ems", "transport_destination": "ED"}, 200),
        # Two referrals: one every clinical reader sees in full, one that is Part 2 (restricted for most).
        (
            clinician,
            "post",
            f"/api/v1/encounters/{encounter_a.pk}/referrals/",
            {"type": "peer_support", "notes": "Tue"},
            201,
        ),
        (
            clinician,
            "post",
            f"/api/v1/encounters/{encounter_a.pk}/referrals/",
            {"type": "substance_use_treatment"},
            201,
        ),
    ]:
        res = write(client, method, url, body)
        assert res.status_code == code, (url, res.json())
    note_url = f"/api/v1/clinical/notes/{note_a.pk}"
    precautions = {
        k: True for k in ("lethal_means_addressed", "not_left_alone", "supervisor_notified", "safety_plan_reviewed")
    }
    res = write(clinician, "patch", f"{note_url}/", {"revision": 1, "safety_precautions": precautions})
    assert res.status_code == 200, res.json()
    res = write(clinician, "post", f"{note_url}/sign/", {"revision": 2})
    assert res.status_code == 200, res.json()
    res = write(
        clinician,
        "post",
        f"{note_url}/addenda/",
        {"id": str(uuid.uuid4()), "kind": "late_entry", "reason": "Recalled", "text": "x"},
    )
    assert res.status_code == 201, res.json()
    return encounter_a


READERS = ["clinician_a", "clinician_part2", "officer_a", "dispatcher", "supervisor", "clinical_supervisor"]


@pytest.mark.parametrize("reader", [*READERS, "care_navigator"])
def test_encounter_payloads_match_the_schema(
    request: pytest.FixtureRequest, api: Callable[[Any], Any], full_encounter: Any, reader: str
) -> None:
    user = grant_part2(request.getfixturevalue("clinician_a")) if reader == "clinician_part2" else None
    client = api(user or request.getfixturevalue(reader))
    detail = client.get(f"/api/v1/clinical/encounters/{full_encounter.pk}/")
    if detail.status_code == 404:  # this role has no access to this encounter: nothing to describe
        assert reader == "care_navigator"
        return
    assert detail.status_code == 200, detail.json()
    assert _problems("EncounterOutput", detail.json()) == []
    listing = client.get("/api/v1/clinical/encounters/")
    assert listing.status_code == 200, listing.json()
    assert listing.json()["results"], "the encounter is in the list"
    assert _problems("EncounterListOutput", listing.json()) == []
    for note in detail.json().get("notes", []):
        res = client.get(f"/api/v1/clinical/notes/{note['id']}/")
        assert res.status_code == 200, res.json()
        assert _problems("NoteOutput", res.json()) == []


def test_the_full_encounter_fills_every_declared_key(
    api: Callable[[Any], Any], clinician_a: Any, full_encounter: Any
) -> None:
    """The fixture exercises the whole shape: a Part 2 reader sees every key the schema declares (so
    the check above is not passing on a thin payload)."""
    body = api(grant_part2(clinician_a)).get(f"/api/v1/clinical/encounters/{full_encounter.pk}/").json()
    declared = set(_components()["schemas"]["EncounterOutput"]["properties"])
    assert declared - set(body) == {"break_glass"}  # only present on a break-glass read
    note = body["notes"][0]
    # ``readiness`` belongs to drafts only; this note is signed.
    assert set(_components()["schemas"]["NoteOutput"]["properties"]) - set(note) == {"readiness"}
    assert {r["restricted"] for r in body["referrals"]} == {False}
    assert set(_components()["schemas"]["EncounterReferralOutput"]["properties"]) == set(body["referrals"][0])
    assert set(_components()["schemas"]["EncounterPersonOutput"]["properties"]) == set(body["person"])


def test_an_undeclared_or_mistyped_key_is_reported() -> None:
    """The check itself: an extra key and a wrong type are both problems."""
    base = {"id": str(uuid.uuid4()), "revision": 1}
    assert _problems("EncounterOutput", base) == []
    assert any("secret_note" in p for p in _problems("EncounterOutput", {**base, "secret_note": "x"}))
    assert any(p.startswith("high_risk") for p in _problems("EncounterOutput", {**base, "high_risk": "yes"}))
    assert _problems("EncounterOutput", {**base, "person": None, "closed_at": None}) == []
