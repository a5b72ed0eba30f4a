"""CAD intake: API-key authentication, the EIDO subset, idempotency by CAD number, bad payloads."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.incidents.models import Incident, TimelineEntry
from apps.realtime.models import Event

EXAMPLE = Path(__file__).parent / "data" / "eido_incident.json"
SHARED_SCHEMA = Path(settings.BASE_DIR).parent / "shared" / "eido" / "openapi.yaml"
URL = "/api/v1/cad/incidents"


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return data


def post(key: str | None, payload: Any) -> Any:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client.post(URL, payload, format="json")


def test_example_payload_creates_the_incident(cad_key: str, dispatcher: Any, captured_events: Any) -> None:
    response = post(cad_key, example())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] is True
    incident = Incident.objects.get(pk=body["id"])
    assert incident.cad_number == "DPD-2026-112701"
    assert incident.cad_source == "cad-durham"
    assert incident.call_type is not None and incident.call_type.local_code == "SUICTHRT"
    assert incident.priority == 8
    assert incident.priority_local == "P1"
    assert incident.beat == "D1-12"
    assert incident.address == "101 City Hall Plaza, Durham, NC"
    assert incident.latitude == pytest.approx(35.99403)
    assert incident.longitude == pytest.approx(-78.89862)
    assert incident.received_at.isoformat() == "2026-11-26T14:12:00+00:00"
    assert "knife" in incident.operational_notes and "<p>" not in incident.operational_notes
    assert Event.objects.filter(user=dispatcher, type="incident.created").count() == 1


def test_the_same_call_twice_is_one_incident(cad_key: str) -> None:
    first = post(cad_key, example())
    second = post(cad_key, example())
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json() == {**first.json(), "created": False}
    assert Incident.objects.count() == 1
    assert not TimelineEntry.objects.filter(kind="cad_update").exists()


def test_an_update_lands_in_the_timeline(cad_key: str, dispatcher: Any, captured_events: Any) -> None:
    post(cad_key, example())
    update = example()
    update["incidentComponent"]["incidentCommonPriorityNumber"] = 9
    update["incidentComponent"]["lastUpdateTimeStamp"] = "2026-11-26T09:20:00-05:00"
    response = post(cad_key, update)
    assert response.status_code == 200
    assert response.json()["changed"] == ["priority"]
    incident = Incident.objects.get()
    assert incident.priority == 9
    entry = TimelineEntry.objects.get(incident=incident, kind="cad_update")
    assert (entry.field, entry.old_value, entry.new_value) == ("priority", "8", "9")
    assert Event.objects.filter(user=dispatcher, type="incident.updated").count() == 1


def test_an_older_post_arriving_late_is_ignored(cad_key: str) -> None:
    newer = example()
    newer["incidentComponent"]["incidentCommonPriorityNumber"] = 9
    newer["incidentComponent"]["lastUpdateTimeStamp"] = "2026-11-26T09:30:00-05:00"
    post(cad_key, newer)
    response = post(cad_key, example())  # lastUpdateTimeStamp 09:14:05, priority 8
    assert response.status_code == 200
    assert response.json()["stale"] is True
    assert Incident.objects.get().priority == 9


def test_the_same_number_from_another_cad_is_another_incident(cad_key: str, make_user: Any) -> None:
    from apps.accounts.models import ApiKey

    _k, other_key = ApiKey.generate(name="County CAD", user=make_user("cad-county"))
    assert post(cad_key, example()).status_code == 201
    assert post(other_key, example()).status_code == 201
    assert Incident.objects.count() == 2


@pytest.mark.parametrize("key", [None, "deadbeef.wrong-secret", "garbage"])
def test_a_bad_key_is_401_and_stores_nothing(key: str | None, cad_key: str) -> None:
    response = post(key, example())
    assert response.status_code == 401
    assert Incident.objects.count() == 0


def test_a_revoked_key_is_401(cad_key: str) -> None:
    from django.utils import timezone

    from apps.accounts.models import ApiKey

    ApiKey.objects.update(revoked_at=timezone.now())
    assert post(cad_key, example()).status_code == 401
    assert Incident.objects.count() == 0


def test_a_signed_in_person_cannot_use_the_cad_endpoint(api: Any, dispatcher: Any) -> None:
    response = api(dispatcher).post(URL, example(), format="json")
    assert response.status_code == 401
    assert Incident.objects.count() == 0


def _mutate(path: str, value: Any) -> dict[str, Any]:
    data = example()
    *parents, last = path.split(".")
    node: Any = data
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return data


_DELETE = object()
BAD = [
    ("incidentComponent", _DELETE, "incidentComponent"),
    ("eidoVersion", "2.0", "eidoVersion"),
    ("incidentComponent.incidentTypeCommonRegistryText", _DELETE, "incidentComponent.incidentTypeCommonRegistryText"),
    ("incidentComponent.incidentCommonPriorityNumber", 11, "incidentComponent.incidentCommonPriorityNumber"),
    ("incidentComponent.incidentCommonPriorityNumber", "high", "incidentComponent.incidentCommonPriorityNumber"),
    ("incidentComponent.internalIncidentId", {"nested": 1}, "incidentComponent.internalIncidentId"),
    ("incidentComponent.internalIncidentId", "x" * 10_000, "incidentComponent.internalIncidentId"),
    ("incidentComponent.beatOrDispatchGroupText", "B" * 500, "incidentComponent.beatOrDispatchGroupText"),
    ("callComponent.0.callStartTimestamp", "yesterday", "callComponent.0.callStartTimestamp"),
    ("callComponent.0.callStartTimestamp", "2026-11-26T09:12:00", "callComponent.0.callStartTimestamp"),
    ("callComponent", "not a list", "callComponent"),
    ("locationComponent.0.locationByValue", "<presence><gml:pos", "locationComponent.0.locationByValue"),
    ("locationComponent.0.locationDescriptionText", "a" * 301, "locationComponent.0.locationDescriptionText"),
    ("notesComponent.0.notesActionComments", "n" * 5000, "notesComponent.0.notesActionComments"),
]


@pytest.mark.parametrize(("path", "value", "field"), BAD, ids=[f"{p}={str(v)[:12]}" for p, v, _ in BAD])
def test_bad_payloads_are_400_with_the_field_and_store_nothing(cad_key: str, path: str, value: Any, field: str) -> None:
    response = post(cad_key, _mutate(path, value))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"]
    assert any(key.startswith(field) for key in body["errors"]), body
    assert Incident.objects.count() == 0


@pytest.mark.parametrize(
    ("pos", "message"), [("95.0 -78.9", "Latitude"), ("35.9 -200", "Longitude"), ("35.9", "latitude and longitude")]
)
def test_invalid_coordinates_are_400(cad_key: str, pos: str, message: str) -> None:
    data = example()
    data["locationComponent"][0]["locationByValue"] = data["locationComponent"][0]["locationByValue"].replace(
        "35.99403 -78.89862", pos
    )
    response = post(cad_key, data)
    assert response.status_code == 400
    assert message in json.dumps(response.json())
    assert Incident.objects.count() == 0


def test_xml_entities_are_refused(cad_key: str) -> None:
    data = example()
    data["locationComponent"][0]["locationByValue"] = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><presence>&b;</presence>'
    )
    response = post(cad_key, data)
    assert response.status_code == 400
    assert Incident.objects.count() == 0


def test_a_json_array_body_is_400(cad_key: str) -> None:
    response = post(cad_key, [example()])
    assert response.status_code == 400
    assert Incident.objects.count() == 0


def test_an_update_cannot_break_an_assigned_incident(cad_key: str, on_shift_a: Any, dispatcher: Any) -> None:
    """A CAD update with a bad field changes nothing, also on an incident that is already in progress."""
    from apps.incidents import services

    incident_id = post(cad_key, example()).json()["id"]
    services.assignment_offer(incident_id=incident_id, team_id=on_shift_a.team_id, by=dispatcher)
    before = Incident.objects.get(pk=incident_id)
    bad = _mutate("incidentComponent.incidentCommonPriorityNumber", -1)
    assert post(cad_key, bad).status_code == 400
    after = Incident.objects.get(pk=incident_id)
    assert (after.priority, after.status) == (before.priority, before.status)


def test_the_documented_example_is_the_tested_example() -> None:
    doc = Path(settings.BASE_DIR) / "docs" / "cad-intake.md"
    blocks = re.findall(r"```json\n(.*?)\n```", doc.read_text(), re.DOTALL)
    assert any(json.loads(b) == example() for b in blocks), "docs/cad-intake.md must show the tested example"


def test_the_example_is_valid_eido_per_the_shared_schema() -> None:
    if not SHARED_SCHEMA.is_file():
        pytest.skip(f"{SHARED_SCHEMA} is not present")
    jsonschema = pytest.importorskip("jsonschema")
    yaml = pytest.importorskip("yaml")
    spec = yaml.safe_load(SHARED_SCHEMA.read_text())
    schema = {"$ref": "#/components/schemas/EmergencyIncidentDataObjectType", "components": spec["components"]}
    jsonschema.Draft7Validator(schema).validate(example())
    broken = copy.deepcopy(example())
    del broken["agencyComponent"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)
