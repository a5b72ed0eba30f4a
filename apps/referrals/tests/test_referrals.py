from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from apps.clinical.models import AccessLog
from apps.referrals.models import Agency, FollowUp, Referral, ReferralStatusChange
from apps.reminders.models import Reminder

from .conftest import write

pytestmark = pytest.mark.django_db


def nothing_saved() -> None:
    assert Referral.objects.count() == 0
    assert FollowUp.objects.count() == 0
    assert Reminder.objects.count() == 0


def test_clinician_makes_a_referral_from_an_encounter(api: Any, clinician_a: Any, encounter: Any, agency: Any) -> None:
    rid = uuid.uuid4()
    res = write(
        api(clinician_a),
        "post",
        f"/api/v1/encounters/{encounter.pk}/referrals/",
        {"id": str(rid), "type": "outpatient_mental_health", "agency_id": agency.pk, "notes": "Prefers mornings"},
    )
    assert res.status_code == 201, res.json()
    body = res.json()
    assert body["id"] == str(rid)
    assert body["status"] == "made"
    assert body["person_id"] == str(encounter.person_id)
    assert body["agency"]["name"] == "Durham Center Access"
    assert body["notes"] == "Prefers mornings"
    assert body["history"] == [
        {"from": "", "to": "made", "reason": "", "at": body["history"][0]["at"], "by": clinician_a.pk}
    ]
    referral = Referral.objects.get(pk=rid)
    assert referral.made_by == clinician_a
    assert AccessLog.objects.filter(record_type="referral", record_id=str(rid), action="write").exists()


def test_referral_by_encounter_id_on_the_collection_endpoint(
    api: Any, clinician_a: Any, encounter: Any, agency: Any
) -> None:
    res = write(
        api(clinician_a),
        "post",
        "/api/v1/referrals/",
        {"encounter_id": str(encounter.pk), "type": "housing", "agency_id": agency.pk},
    )
    assert res.status_code == 201, res.json()
    assert Referral.objects.get(pk=res.json()["id"]).encounter_id == encounter.pk


def test_a_retried_referral_with_the_same_key_is_created_once(api: Any, clinician_a: Any, encounter: Any) -> None:
    client = api(clinician_a)
    body = {"id": str(uuid.uuid4()), "type": "peer_support"}
    first = write(client, "post", f"/api/v1/encounters/{encounter.pk}/referrals/", body, key="k-1")
    again = write(client, "post", f"/api/v1/encounters/{encounter.pk}/referrals/", body, key="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Referral.objects.count() == 1
    assert FollowUp.objects.count() == 1


def test_the_same_client_id_under_a_new_key_is_a_conflict(api: Any, clinician_a: Any, encounter: Any) -> None:
    body = {"id": str(uuid.uuid4()), "type": "peer_support"}
    assert write(api(clinician_a), "post", f"/api/v1/encounters/{encounter.pk}/referrals/", body).status_code == 201
    res = write(api(clinician_a), "post", f"/api/v1/encounters/{encounter.pk}/referrals/", body)
    assert res.status_code == 409
    assert res.json()["current"] == {"id": body["id"]}
    assert Referral.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "housing", "agency_id": 99999}, "agency_id"),
        ({"type": "housing", "person_id": str(uuid.uuid4())}, "person_id"),
        ({"type": "astrology"}, "type"),
        ({"type": "housing", "notes": "x" * 2001}, "notes"),
        ({"type": "housing", "made_at": "2026-03-08T02:30:00"}, "made_at"),
        ({"type": "housing", "colour": "blue"}, "colour"),
        ({}, "type"),
    ],
)
def test_bad_referral_input_is_a_400_and_nothing_is_saved(
    api: Any, clinician_a: Any, encounter: Any, body: dict[str, Any], field: str
) -> None:
    res = write(api(clinician_a), "post", f"/api/v1/encounters/{encounter.pk}/referrals/", body)
    assert res.status_code == 400, res.json()
    assert field in res.json()["errors"]
    nothing_saved()


def test_an_inactive_agency_is_refused(api: Any, clinician_a: Any, encounter: Any, agency: Agency) -> None:
    agency.is_active = False
    agency.save()
    res = write(
        api(clinician_a),
        "post",
        f"/api/v1/encounters/{encounter.pk}/referrals/",
        {"type": "housing", "agency_id": agency.pk},
    )
    assert res.status_code == 400
    assert "agency_id" in res.json()["errors"]


def test_a_future_made_at_is_refused(api: Any, clinician_a: Any, encounter: Any) -> None:
    later = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    res = write(
        api(clinician_a), "post", f"/api/v1/encounters/{encounter.pk}/referrals/", {"type": "housing", "made_at": later}
    )
    assert res.status_code == 400
    assert "made_at" in res.json()["errors"]
    nothing_saved()


def test_an_encounter_without_a_person_needs_person_id(
    api: Any, clinician_a: Any, make_encounter: Callable[..., Any], person: Any
) -> None:
    bare = make_encounter(with_person=False)
    url = f"/api/v1/encounters/{bare.pk}/referrals/"
    res = write(api(clinician_a), "post", url, {"type": "housing"})
    assert res.status_code == 400
    assert "person_id" in res.json()["errors"]
    res = write(api(clinician_a), "post", url, {"type": "housing", "person_id": str(person.pk)})
    assert res.status_code == 201
    assert Referral.objects.get().person == person


def test_unknown_encounter_is_404(api: Any, clinician_a: Any) -> None:
    res = write(api(clinician_a), "post", f"/api/v1/encounters/{uuid.uuid4()}/referrals/", {"type": "housing"})
    assert res.status_code == 404
    res = write(api(clinician_a), "post", "/api/v1/referrals/", {"encounter_id": str(uuid.uuid4()), "type": "housing"})
    assert res.status_code == 404
    nothing_saved()


def test_a_clinician_of_another_team_gets_404_for_the_encounter(
    api: Any, clinician_b: Any, on_shift_b: Any, encounter: Any
) -> None:
    res = write(api(clinician_b), "post", f"/api/v1/encounters/{encounter.pk}/referrals/", {"type": "housing"})
    assert res.status_code == 404
    nothing_saved()


def test_officers_and_dispatchers_cannot_make_referrals(
    api: Any, officer_a: Any, dispatcher: Any, encounter: Any
) -> None:
    for user in (officer_a, dispatcher):
        assert (
            write(api(user), "post", f"/api/v1/encounters/{encounter.pk}/referrals/", {"type": "housing"}).status_code
            == 403
        )
        res = write(api(user), "post", "/api/v1/referrals/", {"encounter_id": str(encounter.pk), "type": "housing"})
        assert res.status_code == 403
    nothing_saved()


def test_officer_sees_that_a_referral_exists_and_its_status_but_no_details(
    api: Any, officer_a: Any, encounter: Any, make_referral: Callable[..., Any]
) -> None:
    made = make_referral(encounter, notes="ZEBRA-NARRATIVE-7731")
    res = api(officer_a).get(f"/api/v1/referrals/?encounter={encounter.pk}")
    assert res.status_code == 200
    [row] = res.json()["results"]
    assert set(row) == {"id", "encounter_id", "status", "made_at", "status_changed_at"}
    detail = api(officer_a).get(f"/api/v1/referrals/{made['id']}/")
    assert detail.status_code == 200
    assert "ZEBRA" not in detail.content.decode()
    assert "type" not in detail.json()


def test_care_navigator_sees_details_and_the_read_is_logged(
    api: Any, care_navigator: Any, encounter: Any, make_referral: Callable[..., Any]
) -> None:
    made = make_referral(encounter, notes="Call after 5pm")
    res = api(care_navigator).get(f"/api/v1/referrals/{made['id']}/")
    assert res.json()["notes"] == "Call after 5pm"
    assert AccessLog.objects.filter(user=care_navigator, record_type="referral", action="read").count() == 1


def test_referrals_outside_scope_are_hidden(
    api: Any, clinician_b: Any, on_shift_b: Any, encounter: Any, make_referral: Callable[..., Any], analyst: Any
) -> None:
    made = make_referral(encounter)
    assert api(clinician_b).get("/api/v1/referrals/").json()["results"] == []
    assert api(clinician_b).get(f"/api/v1/referrals/{made['id']}/").status_code == 404
    assert api(analyst).get("/api/v1/referrals/").status_code == 403


def test_referral_list_query_count_is_constant(
    api: Any,
    care_navigator: Any,
    encounter: Any,
    make_referral: Callable[..., Any],
    django_assert_num_queries: Any,
) -> None:
    client = api(care_navigator)
    make_referral(encounter)
    client.get("/api/v1/referrals/")  # warm up (content types, sessions)
    with django_assert_num_queries(2):  # the referrals, one access-log insert
        client.get("/api/v1/referrals/")
    for _ in range(5):
        make_referral(encounter)
    with django_assert_num_queries(2):
        res = client.get("/api/v1/referrals/")
    assert len(res.json()["results"]) == 6


def test_status_goes_made_scheduled_linked_with_actor_and_time(
    api: Any, clinician_a: Any, care_navigator: Any, encounter: Any, make_referral: Callable[..., Any]
) -> None:
    rid = make_referral(encounter)["id"]
    when = (timezone.now() + dt.timedelta(days=3)).isoformat()
    res = write(
        api(clinician_a), "post", f"/api/v1/referrals/{rid}/status/", {"status": "scheduled", "scheduled_for": when}
    )
    assert res.status_code == 200, res.json()
    assert res.json()["status"] == "scheduled"
    res = write(api(care_navigator), "post", f"/api/v1/referrals/{rid}/status/", {"status": "linked"})
    assert res.status_code == 200
    changes = list(ReferralStatusChange.objects.filter(referral_id=rid).values_list("from_status", "to_status", "by"))
    assert changes == [
        ("", "made", clinician_a.pk),
        ("made", "scheduled", clinician_a.pk),
        ("scheduled", "linked", care_navigator.pk),
    ]
    referral = Referral.objects.get(pk=rid)
    assert referral.status_changed_by == care_navigator
    assert referral.scheduled_for is not None


@pytest.mark.parametrize(("first", "then"), [("linked", "scheduled"), ("declined", "linked"), ("closed", "made")])
def test_illegal_status_jumps_are_409_with_the_current_status(
    api: Any, clinician_a: Any, encounter: Any, make_referral: Callable[..., Any], first: str, then: str
) -> None:
    rid = make_referral(encounter)["id"]
    url = f"/api/v1/referrals/{rid}/status/"
    assert write(api(clinician_a), "post", url, {"status": first, "reason": "because"}).status_code == 200
    res = write(api(clinician_a), "post", url, {"status": then, "reason": "again"})
    assert res.status_code == 409
    assert res.json()["current"] == {"status": first}
    assert ReferralStatusChange.objects.filter(referral_id=rid).count() == 2


def test_made_to_made_is_409(api: Any, clinician_a: Any, encounter: Any, make_referral: Callable[..., Any]) -> None:
    rid = make_referral(encounter)["id"]
    res = write(api(clinician_a), "post", f"/api/v1/referrals/{rid}/status/", {"status": "made"})
    assert res.status_code == 409
    assert res.json()["current"] == {"status": "made"}


def test_closing_a_referral_needs_a_reason(
    api: Any, clinician_a: Any, encounter: Any, make_referral: Callable[..., Any]
) -> None:
    rid = make_referral(encounter)["id"]
    url = f"/api/v1/referrals/{rid}/status/"
    res = write(api(clinician_a), "post", url, {"status": "closed"})
    assert res.status_code == 400
    assert "reason" in res.json()["errors"]
    assert write(api(clinician_a), "post", url, {"status": "closed", "reason": "x" * 501}).status_code == 400
    assert write(api(clinician_a), "post", url, {"status": "bogus"}).status_code == 400
    assert Referral.objects.get(pk=rid).status == "made"
    res = write(api(clinician_a), "post", url, {"status": "closed", "reason": "Moved out of county"})
    assert res.status_code == 200
    assert res.json()["status_reason"] == "Moved out of county"


def test_person_record_lists_open_referrals(
    api: Any, clinician_a: Any, encounter: Any, make_referral: Callable[..., Any]
) -> None:
    rid = make_referral(encounter)["id"]
    res = api(clinician_a).get(f"/api/v1/clinical/persons/{encounter.person_id}/")
    assert res.status_code == 200
    assert [str(r["id"]) for r in res.json()["open_referrals"]] == [rid]


def test_agency_directory_lists_active_agencies(api: Any, clinician_a: Any, agency: Agency, officer_a: Any) -> None:
    Agency.objects.create(name="Closed shelter", is_active=False)
    res = api(clinician_a).get("/api/v1/agencies/")
    assert [a["name"] for a in res.json()["results"]] == ["Durham Center Access"]
    assert api(officer_a).get("/api/v1/agencies/").status_code == 403


def test_substance_use_referral_details_only_for_part2_readers(
    api: Any,
    clinician_a: Any,
    care_navigator: Any,
    clinical_supervisor: Any,
    encounter: Any,
    make_referral: Callable[..., Any],
) -> None:
    made = make_referral(encounter, type="substance_use_treatment", notes="Opioid use disorder")
    for user in (care_navigator, clinician_a):
        body = api(user).get(f"/api/v1/referrals/{made['id']}/").json()
        assert body["restricted"] is True
        assert "type" not in body
        assert "Opioid" not in str(body)
    queue = api(care_navigator).get("/api/v1/followups/").json()["results"][0]
    assert (queue["restricted"], queue["referral_type"], queue["agency"]) == (True, None, None)
    full = api(clinical_supervisor).get(f"/api/v1/referrals/{made['id']}/").json()
    assert full["type"] == "substance_use_treatment"
    assert full["notes"] == "Opioid use disorder"


def test_the_referral_apis_add_no_schema_warnings() -> None:
    import re

    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    validate_schema(schema)  # type: ignore[no-untyped-call]
    ours = [m for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if re.search("apps/referrals/", m)]
    GENERATOR_STATS.reset()
    assert ours == []
    for path in (
        "/api/v1/encounters/{encounter_id}/referrals/",
        "/api/v1/referrals/",
        "/api/v1/followups/",
        "/api/v1/followups/overdue/",
        "/api/v1/followups/{followup_id}/attempts/",
        "/api/v1/followups/{followup_id}/reassign/",
        "/api/v1/followups/{followup_id}/close/",
    ):
        assert path in schema["paths"]


def test_merging_a_duplicate_person_moves_referrals_and_follow_ups(
    api: Any, clinician_a: Any, care_navigator: Any, encounter: Any, make_referral: Callable[..., Any]
) -> None:
    survivor = write(
        api(clinician_a), "post", "/api/v1/clinical/persons/", {"first_name": "Patricia", "last_name": "Doe"}
    )
    assert survivor.status_code == 201
    make_referral(encounter)
    duplicate_id = encounter.person_id
    res = write(
        api(clinician_a),
        "post",
        f"/api/v1/clinical/persons/{survivor.json()['id']}/merge/",
        {"duplicate_id": str(duplicate_id), "reason": "Same DOB and phone"},
    )
    assert res.status_code == 200, res.json()
    assert str(Referral.objects.get().person_id) == survivor.json()["id"]
    assert str(FollowUp.objects.get().person_id) == survivor.json()["id"]
