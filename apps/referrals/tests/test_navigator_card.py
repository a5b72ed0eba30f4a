"""What the navigator's card and the encounter screen need: whom to call and how, the referral with its
notes and agency, and the attempt history; the encounter lists its referrals with their notes for
every clinical reader, and its prompts ask only for what is still missing."""

from __future__ import annotations

from typing import Any

import pytest

from apps.clinical.models import Encounter, Person
from apps.referrals.models import FollowUp

from .conftest import write

pytestmark = pytest.mark.django_db


def _contact(api: Any, clinician_a: Any, person: Person) -> None:
    body = {"revision": person.revision, "phone": "919-555-0177", "preferred_contact": "text", "contact_consent": "yes"}
    res = write(api(clinician_a), "patch", f"/api/v1/clinical/persons/{person.pk}/", body)
    assert res.status_code == 200, res.json()


def test_the_queue_card_has_whom_to_call_the_referral_and_the_attempts(
    api: Any, clinician_a: Any, care_navigator: Any, encounter: Encounter, person: Person, make_referral: Any
) -> None:
    _contact(api, clinician_a, person)
    referral = make_referral(encounter, notes="Prefers afternoons; intake Tue 2 pm.")
    followup = FollowUp.objects.get(referral_id=referral["id"])
    assert followup.assignee_id == care_navigator.pk
    client = api(care_navigator)
    res = write(
        client,
        "post",
        f"/api/v1/followups/{followup.pk}/attempts/",
        {"method": "phone", "outcome": "no_answer", "note": "Voicemail full"},
    )
    assert res.status_code == 201, res.json()

    row = client.get("/api/v1/followups/", {"assignee": "me"}).json()["results"][0]
    assert row["person"] == {
        "id": str(person.pk),
        "name": "Pat Doe",
        "phone": "919-555-0177",
        "preferred_contact": "text",
        "contact_consent": "yes",
    }
    assert row["referral"]["notes"] == "Prefers afternoons; intake Tue 2 pm."
    assert row["referral"]["agency"] == {"name": "Durham Center Access", "phone": "919-560-7305"}
    assert row["referral"]["type"] == "outpatient_mental_health" and row["referral"]["status"] == "made"
    assert [(a["outcome"], a["note"], a["by"]["name"]) for a in row["attempts"]] == [
        ("no_answer", "Voicemail full", care_navigator.display_name)
    ]


def test_a_supervisor_sees_no_contact_referral_notes_or_attempts(
    api: Any, clinician_a: Any, supervisor: Any, encounter: Encounter, person: Person, make_referral: Any
) -> None:
    _contact(api, clinician_a, person)
    make_referral(encounter, notes="Private note")
    FollowUp.objects.update(due_at="2000-01-01T00:00:00Z")  # overdue: the supervisors' view lists it
    body = api(supervisor).get("/api/v1/followups/overdue/").content.decode()
    assert "919-555-0177" not in body and "Private note" not in body and '"attempts"' not in body
    assert '"id"' in body


def test_the_encounter_lists_its_referrals_with_notes_and_stops_prompting(
    api: Any, clinician_a: Any, care_navigator: Any, officer_a: Any, encounter: Encounter, make_referral: Any
) -> None:
    client = api(clinician_a)
    moderate = {"q1_wish_dead": True, "q2_active_thoughts": True, "q3_method": True, "q4_intent": False}
    moderate |= {"q5_plan": False, "q6_behavior": False}
    res = write(client, "post", f"/api/v1/clinical/encounters/{encounter.pk}/screens/", moderate)
    assert res.json()["prompts"] == ["safety_plan", "referral", "follow_up"]
    made = make_referral(encounter, notes="Walk-in hours 9-5")

    for reader in (clinician_a, care_navigator):
        body = api(reader).get(f"/api/v1/clinical/encounters/{encounter.pk}/").json()
        assert body["prompts"] == ["safety_plan"]  # the referral made its follow-up too
        assert len(body["referrals"]) == 1
        seen = body["referrals"][0]
        assert seen["id"] == made["id"] and seen["notes"] == "Walk-in hours 9-5" and not seen["restricted"]
        assert seen["agency"]["name"] == "Durham Center Access" and seen["made_by"] == clinician_a.display_name
    assert "referrals" not in api(officer_a).get(f"/api/v1/clinical/encounters/{encounter.pk}/").json()


def test_a_substance_use_referral_is_restricted_on_the_encounter_without_part2(
    api: Any, clinician_a: Any, care_navigator: Any, encounter: Encounter, make_referral: Any
) -> None:
    make_referral(encounter, type="substance_use_treatment", notes="Detox waitlist")
    body = api(care_navigator).get(f"/api/v1/clinical/encounters/{encounter.pk}/")
    assert body.json()["referrals"][0]["restricted"] is True
    assert "notes" not in body.json()["referrals"][0] and "Detox" not in body.content.decode()
