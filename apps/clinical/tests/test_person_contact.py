"""A person's contact fields (phone, preferred contact, consent): stored encrypted, validated, shown to
the clinical roles on the encounter and never to the police roles."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection

from apps.clinical.models import Encounter, Person

from .conftest import write

pytestmark = pytest.mark.django_db


def test_the_phone_is_stored_encrypted_and_read_back(api: Any, clinician_a: Any) -> None:
    body = {"first_name": "Dee", "phone": "(919) 555-0142", "preferred_contact": "text", "contact_consent": "yes"}
    res = write(api(clinician_a), "post", "/api/v1/clinical/persons/", body)
    assert res.status_code == 201, res.json()
    assert {k: res.json()[k] for k in ("phone", "preferred_contact", "contact_consent")} == {
        "phone": "(919) 555-0142",
        "preferred_contact": "text",
        "contact_consent": "yes",
    }
    pk = Person._meta.get_field("id").get_db_prep_value(uuid.UUID(res.json()["id"]), connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM clinical_person WHERE id = %s", [pk])
        row = cursor.fetchone()
    assert row is not None
    assert "555" not in row[0] and row[0].startswith("gAAAA")  # a Fernet token, not the number
    assert Person.objects.get(pk=res.json()["id"]).phone == "(919) 555-0142"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "call me"),
        ("phone", "12345"),
        ("phone", "+1 919 555 0100 0100 0100"),
        ("preferred_contact", "pigeon"),
        ("contact_consent", "maybe"),
    ],
)
def test_bad_contact_input_is_refused(api: Any, clinician_a: Any, field: str, value: str) -> None:
    res = write(api(clinician_a), "post", "/api/v1/clinical/persons/", {"first_name": "Dee", field: value})
    assert res.status_code == 400
    assert field in res.json()["errors"]
    assert not Person.objects.exists()


def test_contact_fields_reach_clinical_roles_on_the_encounter_and_never_the_officer(
    api: Any, clinician_a: Any, officer_a: Any, encounter_a: Encounter, care_navigator: Any
) -> None:
    client = api(clinician_a)
    person = write(
        client,
        "post",
        "/api/v1/clinical/persons/",
        {"first_name": "Dee", "last_name": "Lane", "phone": "919-555-0142", "preferred_contact": "call"},
    ).json()
    res = write(
        client, "patch", f"/api/v1/clinical/encounters/{encounter_a.pk}/", {"revision": 1, "person_id": person["id"]}
    )
    assert res.status_code == 200, res.json()
    for reader in (clinician_a, care_navigator):
        seen = api(reader).get(f"/api/v1/clinical/encounters/{encounter_a.pk}/").json()["person"]
        assert seen["phone"] == "919-555-0142" and seen["preferred_contact"] == "call"
        assert seen["contact_consent"] == "unknown" and seen["revision"] == 1
    officer_view = api(officer_a).get(f"/api/v1/clinical/encounters/{encounter_a.pk}/")
    assert officer_view.json()["person"] == {
        "id": person["id"],
        "first_name": "Dee",
        "last_name": "Lane",
        "date_of_birth": None,
    }
    assert "555" not in officer_view.content.decode()
