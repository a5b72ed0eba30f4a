"""Person records: typo-tolerant search, merge with history, what a clinician sees of a person."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from apps.clinical.models import Encounter, Person, PersonMerge

from .conftest import write


def _person(client: Any, **fields: Any) -> str:
    pid = str(uuid.uuid4())
    res = write(client, "post", "/api/v1/clinical/persons/", {"id": pid, **fields})
    assert res.status_code == 201, res.json()
    return pid


def test_search_tolerates_typos_and_uses_aliases_and_dob(api: Any, clinician_a: Any) -> None:
    c = api(clinician_a)
    jon = _person(c, first_name="Jonathan", last_name="Smith", date_of_birth="1990-04-02", aliases=["Johnny Smoke"])
    _person(c, first_name="Maria", last_name="Lopez", date_of_birth="1985-01-01")
    for q in ("jonathan smith", "Jonathon Smtih", "smith", "johnny smoke"):
        ids = [r["id"] for r in c.get("/api/v1/clinical/persons/", {"q": q}).json()["results"]]
        assert ids[:1] == [jon], q
    by_dob = c.get("/api/v1/clinical/persons/", {"dob": "1990-04-02"}).json()["results"]
    assert [r["id"] for r in by_dob] == [jon]
    assert c.get("/api/v1/clinical/persons/", {"q": "zzzz qqqq"}).json()["results"] == []
    assert c.get("/api/v1/clinical/persons/", {"dob": "not-a-date"}).status_code == 400


def test_merge_keeps_history_and_moves_encounters(api: Any, clinician_a: Any, team_a: Any, on_shift_a: Any) -> None:
    c = api(clinician_a)
    keep = _person(c, first_name="Jonathan", last_name="Smith")
    dup = _person(c, first_name="Jon", last_name="Smith", date_of_birth="1990-04-02", phone="919-555-0100")
    eid = str(uuid.uuid4())
    write(
        c,
        "post",
        "/api/v1/clinical/encounters/",
        {"id": eid, "kind": "walk_in", "person_id": dup, "team_id": team_a.pk},
    )
    assert (
        write(c, "post", f"/api/v1/clinical/persons/{keep}/merge/", {"duplicate_id": dup, "reason": ""}).status_code
        == 400
    )
    assert (
        write(
            c, "post", f"/api/v1/clinical/persons/{keep}/merge/", {"duplicate_id": keep, "reason": "same"}
        ).status_code
        == 400
    )
    res = write(
        c, "post", f"/api/v1/clinical/persons/{keep}/merge/", {"duplicate_id": dup, "reason": "Same DOB and phone"}
    )
    assert res.status_code == 200, res.json()
    assert "Jon Smith" in res.json()["aliases"]
    assert res.json()["date_of_birth"] == "1990-04-02"
    assert str(Encounter.objects.get(pk=eid).person_id) == keep
    merge = PersonMerge.objects.get()
    assert (
        merge.duplicate_snapshot["last_name"] == "Smith" and merge.duplicate_snapshot["date_of_birth"] == "1990-04-02"
    )
    # The phone is stored encrypted: it moves to the survivor and never sits in the plain snapshot.
    assert "phone" not in merge.duplicate_snapshot
    assert res.json()["phone"] == "919-555-0100"
    assert merge.moved["clinical.encounter"] == [eid]
    assert str(Person.objects.get(pk=dup).merged_into_id) == keep
    # The old id still resolves (to the survivor), and merging again is a conflict.
    assert c.get(f"/api/v1/clinical/persons/{dup}/").json()["id"] == keep
    again = write(c, "post", f"/api/v1/clinical/persons/{keep}/merge/", {"duplicate_id": dup, "reason": "again"})
    assert again.status_code == 409
    # Search no longer offers the merged duplicate.
    ids = [r["id"] for r in c.get("/api/v1/clinical/persons/", {"q": "jon smith"}).json()["results"]]
    assert dup not in ids and keep in ids


def test_person_view_shows_prior_encounters_and_active_safety_plan(
    api: Any, clinician_a: Any, team_a: Any, on_shift_a: Any
) -> None:
    c = api(clinician_a)
    pid = _person(c, first_name="Ana", last_name="Diaz")
    eid = str(uuid.uuid4())
    write(
        c,
        "post",
        "/api/v1/clinical/encounters/",
        {"id": eid, "kind": "follow_up", "person_id": pid, "team_id": team_a.pk},
    )
    first = str(uuid.uuid4())
    write(c, "post", f"/api/v1/clinical/encounters/{eid}/safety-plans/", {"id": first, "warning_signs": "old"})
    second = str(uuid.uuid4())
    write(c, "post", f"/api/v1/clinical/encounters/{eid}/safety-plans/", {"id": second, "warning_signs": "new"})
    body = c.get(f"/api/v1/clinical/persons/{pid}/").json()
    assert [e["id"] for e in body["prior_encounters"]] == [eid]
    assert body["active_safety_plan"]["id"] == second
    assert body["active_safety_plan"]["warning_signs"] == "new"


def test_stale_person_edit_is_409(api: Any, clinician_a: Any) -> None:
    c = api(clinician_a)
    pid = _person(c, first_name="Ana", last_name="Diaz")
    assert (
        write(c, "patch", f"/api/v1/clinical/persons/{pid}/", {"revision": 1, "phone": "919 555 0101"}).status_code
        == 200
    )
    stale = write(c, "patch", f"/api/v1/clinical/persons/{pid}/", {"revision": 1, "phone": "919 555 0102"})
    assert stale.status_code == 409
    assert stale.json()["current"]["phone"] == "919 555 0101"


def test_an_incident_encounter_links_to_its_incident_and_walk_ins_stand_alone(
    api: Any, clinician_a: Any, dispatcher: Any, team_a: Any, on_shift_a: Any
) -> None:
    from apps.incidents.services import incident_create

    incident = incident_create(
        by=dispatcher, values={"call_type_code": "SUICTHRT", "priority": 8, "address": "1 Main St"}
    )
    c = api(clinician_a)
    eid = str(uuid.uuid4())
    res = write(
        c,
        "post",
        "/api/v1/clinical/encounters/",
        {"id": eid, "kind": "incident", "incident_id": incident.pk, "team_id": team_a.pk},
    )
    assert res.status_code == 201, res.json()
    assert res.json()["incident_id"] == incident.pk
    assert list(Encounter.objects.filter(incident=incident).values_list("id", flat=True)) == [uuid.UUID(eid)]
    walk_in = write(c, "post", "/api/v1/clinical/encounters/", {"id": str(uuid.uuid4()), "kind": "walk_in"})
    assert walk_in.status_code == 201 and walk_in.json()["incident_id"] is None
    bad = write(
        c, "post", "/api/v1/clinical/encounters/", {"id": str(uuid.uuid4()), "kind": "incident", "incident_id": 999999}
    )
    assert bad.status_code == 400 and "incident_id" in bad.json()["errors"]
    no_team = write(
        c, "post", "/api/v1/clinical/encounters/", {"id": str(uuid.uuid4()), "kind": "walk_in", "team_id": 999999}
    )
    assert no_team.status_code == 400 and no_team.json()["errors"]["team_id"] == ["No such team."]
    assert Encounter.objects.count() == 2


def test_person_view_lists_open_referrals_and_hides_substance_use_ones_without_part2(
    api: Any, clinician_a: Any, team_a: Any, on_shift_a: Any, make_user: Any
) -> None:
    from apps.clinical.policy import Actor
    from apps.referrals.services import referral_create
    from apps.teams.models import TeamMembership

    from .conftest import grant_part2

    c = api(clinician_a)
    pid = _person(c, first_name="Ana", last_name="Diaz")
    eid = str(uuid.uuid4())
    write(
        c,
        "post",
        "/api/v1/clinical/encounters/",
        {"id": eid, "kind": "walk_in", "person_id": pid, "team_id": team_a.pk},
    )
    actor = Actor(user=clinician_a)
    referral_create(actor=actor, encounter_id=uuid.UUID(eid), type="housing")
    referral_create(actor=actor, encounter_id=uuid.UUID(eid), type="substance_use_treatment")
    types = sorted(r["type"] for r in c.get(f"/api/v1/clinical/persons/{pid}/").json()["open_referrals"])
    assert types == ["housing"]
    reader = make_user("part2_reader", "clinician")
    TeamMembership.objects.create(team=team_a, user=reader, role="clinician")
    types = sorted(
        r["type"] for r in api(grant_part2(reader)).get(f"/api/v1/clinical/persons/{pid}/").json()["open_referrals"]
    )
    assert types == ["housing", "substance_use_treatment"]
    # Merging moves the referrals with the encounters.
    keep = _person(c, first_name="Ana", last_name="Dias")
    res = write(c, "post", f"/api/v1/clinical/persons/{keep}/merge/", {"duplicate_id": pid, "reason": "Same person"})
    assert res.status_code == 200, res.json()
    assert len(PersonMerge.objects.get().moved["referrals.referral"]) == 2
    assert [r["type"] for r in c.get(f"/api/v1/clinical/persons/{keep}/").json()["open_referrals"]] == ["housing"]


def test_encounter_list_costs_the_same_queries_for_3_or_10_encounters(
    api: Any, clinician_a: Any, team_a: Any, on_shift_a: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = api(clinician_a)
    pid = _person(c, first_name="Ana", last_name="Diaz")

    def add(n: int) -> None:
        for _ in range(n):
            eid = str(uuid.uuid4())
            write(
                c,
                "post",
                "/api/v1/clinical/encounters/",
                {"id": eid, "kind": "walk_in", "person_id": pid, "team_id": team_a.pk},
            )
            write(c, "post", f"/api/v1/clinical/encounters/{eid}/dispositions/", {"code": "resolved_on_scene"})

    add(3)
    with CaptureQueriesContext(connection) as few:
        assert len(c.get("/api/v1/clinical/encounters/").json()["results"]) == 3
    add(7)
    with CaptureQueriesContext(connection) as many:
        assert len(c.get("/api/v1/clinical/encounters/").json()["results"]) == 10
    assert len(many) == len(few)


@pytest.mark.postgres
def test_on_postgresql_trigrams_find_typos_in_the_first_letters(api: Any, clinician_a: Any) -> None:
    from apps.clinical.selectors import _trigram_available

    assert _trigram_available()
    c = api(clinician_a)
    jon = _person(c, first_name="Jonathan", last_name="Smith")
    ids = [r["id"] for r in c.get("/api/v1/clinical/persons/", {"q": "Ojnathan Msith"}).json()["results"]]
    assert ids == [jon]
