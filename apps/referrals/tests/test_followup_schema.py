"""The follow-up payloads match their OpenAPI shapes (apis.FollowUpOutput / FollowUpPageOutput), both ways:
the PWA's FollowUp type is generated from them, so a key of the wrong type or one the schema does not
declare fails here, for every role that reads the queue."""

from __future__ import annotations

from typing import Any

import pytest

from apps.clinical.tests.test_payload_schema import _components, _problems
from apps.referrals.models import FollowUp

from .conftest import write

pytestmark = pytest.mark.django_db


@pytest.fixture
def followup(
    api: Any, clinician_a: Any, care_navigator: Any, encounter: Any, person: Any, make_referral: Any
) -> FollowUp:
    body = {"revision": person.revision, "phone": "919-555-0177", "preferred_contact": "call"}
    assert write(api(clinician_a), "patch", f"/api/v1/clinical/persons/{person.pk}/", body).status_code == 200
    referral = make_referral(encounter, notes="Tue")
    item = FollowUp.objects.get(referral_id=referral["id"])
    attempt = {"method": "phone", "outcome": "no_answer", "note": "voicemail"}
    assert write(api(care_navigator), "post", f"/api/v1/followups/{item.pk}/attempts/", attempt).status_code == 201
    FollowUp.objects.filter(pk=item.pk).update(due_at="2000-01-01T00:00:00Z")  # overdue: on every list
    return item


@pytest.mark.parametrize("reader", ["care_navigator", "clinician_a", "clinical_supervisor", "supervisor"])
def test_followup_payloads_match_the_schema(
    request: pytest.FixtureRequest, api: Any, followup: FollowUp, reader: str
) -> None:
    client = api(request.getfixturevalue(reader))
    page = client.get("/api/v1/followups/")
    assert page.status_code == 200 and page.json()["results"], page.json()
    assert _problems("FollowUpPageOutput", page.json()) == []
    detail = client.get(f"/api/v1/followups/{followup.pk}/")
    assert detail.status_code == 200
    assert _problems("FollowUpOutput", detail.json()) == []
    if reader in ("supervisor", "clinical_supervisor"):
        overdue = client.get("/api/v1/followups/overdue/")
        assert _problems("FollowUpPageOutput", overdue.json()) == []


def test_a_navigator_gets_every_declared_key(api: Any, care_navigator: Any, followup: FollowUp) -> None:
    body = api(care_navigator).get(f"/api/v1/followups/{followup.pk}/").json()
    assert set(_components()["schemas"]["FollowUpOutput"]["properties"]) == set(body)
    assert _problems("FollowUpOutput", {**body, "surprise": 1}) != []
