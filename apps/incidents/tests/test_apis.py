"""The HTTP surface: roles, field filtering, actions, board, inbox, recommendations, query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.incidents import services
from apps.incidents.models import Assignment, Incident

S = Assignment.Status
CREATE = {
    "call_type": "SUICTHRT",
    "priority": 8,
    "address": "101 City Hall Plaza",
    "latitude": 35.994,
    "longitude": -78.898,
    "subject_name": "Jordan Example",
    "subject_dob": "1990-04-01",
    "caller_name": "Sam Caller",
    "weapon_present": True,
    "weapon_kind": "knife",
    "operational_notes": "Gate code 1234",
}


def test_dispatcher_creates_an_incident_by_hand(api: Any, dispatcher: Any) -> None:
    response = api(dispatcher).post("/api/v1/incidents/", CREATE, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["call_type_code"] == "SUICTHRT"
    assert body["status"] == "Active"
    assert body["subject_name"] == "Jordan Example"
    assert body["timeline"][0]["kind"] == "created"
    assert Incident.objects.get(pk=body["id"]).created_by == dispatcher


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"call_type": "NOPE"}, "call_type"),
        ({"priority": 11}, "priority"),
        ({"priority": "urgent"}, "priority"),
        ({"latitude": 91}, "latitude"),
        ({"longitude": -181}, "longitude"),
        ({"address": "x" * 301}, "address"),
        ({"received_at": "2026-11-27T09:00:00"}, "received_at"),
        ({"source": "carrier_pigeon"}, "source"),
        ({"subject_dob": "not a date"}, "subject_dob"),
        ({"status": "Closed"}, "status"),
        ({"received_at": "2099-01-01T00:00:00Z"}, "received_at"),
        ({"subject_dob": "2099-01-01"}, "subject_dob"),
        ({"weapon_present": "maybe"}, "weapon_present"),
    ],
)
def test_bad_input_on_create_is_400_with_the_field(
    api: Any, dispatcher: Any, change: dict[str, Any], field: str
) -> None:
    response = api(dispatcher).post("/api/v1/incidents/", {**CREATE, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Incident.objects.count() == 0


@pytest.mark.parametrize("role_user", ["officer_a", "clinician_a", "analyst"])
def test_only_dispatchers_create(api: Any, request: Any, role_user: str) -> None:
    response = api(request.getfixturevalue(role_user)).post("/api/v1/incidents/", CREATE, format="json")
    assert response.status_code == 403
    assert Incident.objects.count() == 0


def test_officer_sees_subject_identity_only_on_the_current_call(
    api: Any, incident: Incident, officer_a: Any, on_shift_a: Any, dispatcher: Any
) -> None:
    url = f"/api/v1/incidents/{incident.pk}/"
    before = api(officer_a).get(url).json()
    assert before["access"] == "officer"
    assert "subject_name" not in before and "subject_dob" not in before and "caller_name" not in before
    assert before["weapon_kind"] == "knife"  # officer-safety flags always
    assert before["address"]
    # The timeline does not leak the name either.
    assert "Jordan" not in str(before["timeline"])

    a = services.assignment_offer(incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
    during = api(officer_a).get(url).json()
    assert during["subject_name"] == "Jordan Example"

    services.assignment_cancel(assignment_id=a.pk, by=dispatcher, reason="handled by patrol")
    after = api(officer_a).get(url).json()
    assert "subject_name" not in after


def test_officer_of_another_team_does_not_see_the_subject(
    api: Any, offered: Assignment, officer_b: Any, on_shift_b: Any
) -> None:
    body = api(officer_b).get(f"/api/v1/incidents/{offered.incident_id}/").json()
    assert "subject_name" not in body


def test_analyst_reads_no_incident_rows(api: Any, incident: Incident, analyst: Any) -> None:
    # Exact times and beats identify people without names: analysts get aggregates (apps.insights).
    detail = api(analyst).get(f"/api/v1/incidents/{incident.pk}/")
    listing = api(analyst).get("/api/v1/incidents/")
    assert (detail.status_code, listing.status_code) == (403, 403)
    assert "Jordan" not in detail.content.decode() + listing.content.decode()


def test_the_deidentified_tier_hides_identity(incident: Incident) -> None:
    """The fallback tier (no tier known) shows no name, contact, place or free text."""
    from apps.incidents import access

    hidden = access.hidden_fields(access.DEIDENTIFIED)
    for name in ("subject_name", "subject_dob", "caller_name", "caller_phone", "address", "latitude",
                 "longitude", "cad_number", "operational_notes", "weapon_kind"):  # fmt: skip
        assert name in hidden


def test_dispatcher_sees_everything(api: Any, incident: Incident, dispatcher: Any) -> None:
    body = api(dispatcher).get(f"/api/v1/incidents/{incident.pk}/").json()
    assert body["subject_name"] == "Jordan Example"
    assert body["access"] == "full"


def test_a_user_without_a_role_gets_403(api: Any, incident: Incident, make_user: Any) -> None:
    assert api(make_user("nobody")).get(f"/api/v1/incidents/{incident.pk}/").status_code == 403


def test_unknown_incident_is_404(api: Any, dispatcher: Any) -> None:
    assert api(dispatcher).get("/api/v1/incidents/99999/").status_code == 404


def test_full_flow_over_http(api: Any, incident: Incident, dispatcher: Any, officer_a: Any, clinician_a: Any,
                             on_shift_a: Any) -> None:  # fmt: skip
    d, o, c = api(dispatcher), api(officer_a), api(clinician_a)
    triage = {"coresponse_eligible": True, "eligibility_reason": "weapon", "outcome": "dispatch_co_response"}
    r = d.post(f"/api/v1/incidents/{incident.pk}/triage/", triage, format="json")
    assert r.status_code == 200, r.json()
    r = d.post(f"/api/v1/incidents/{incident.pk}/assignments/", {"team": on_shift_a.team_id}, format="json")
    assert r.status_code == 201, r.json()
    aid = r.json()["id"]
    inbox = o.get("/api/v1/assignments/inbox/").json()
    assert [row["id"] for row in inbox] == [aid]
    assert inbox[0]["incident"]["subject_name"] == "Jordan Example"
    assert o.post(f"/api/v1/assignments/{aid}/acknowledge/").status_code == 200
    assert c.post(f"/api/v1/assignments/{aid}/accept/").status_code == 200
    lost = o.post(f"/api/v1/assignments/{aid}/accept/")
    assert lost.status_code == 409
    assert lost.json()["current"]["status"] == "accepted"
    skip = o.post(f"/api/v1/assignments/{aid}/status/", {"status": "cleared"}, format="json")
    assert skip.status_code == 409
    for status in ("en_route", "on_scene", "cleared"):
        r = o.post(f"/api/v1/assignments/{aid}/status/", {"status": status}, format="json")
        assert r.status_code == 200, r.json()
    detail = d.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert detail["status"] == "Closed"
    assert [a["status"] for a in detail["assignments"]] == ["cleared"]
    assert o.get("/api/v1/assignments/inbox/").json() == []


def test_action_bad_input(api: Any, offered: Assignment, officer_a: Any, dispatcher: Any) -> None:
    o = api(officer_a)
    r = o.post(f"/api/v1/assignments/{offered.pk}/decline/", {}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    r = o.post(f"/api/v1/assignments/{offered.pk}/status/", {"status": "flying"}, format="json")
    assert r.status_code == 400 and "status" in r.json()["errors"]
    r = o.post(f"/api/v1/assignments/{offered.pk}/cancel/", {"reason": "x"}, format="json")
    assert r.status_code == 403
    r = api(dispatcher).post(f"/api/v1/incidents/{offered.incident_id}/assignments/", {"team": 424242}, format="json")
    assert r.status_code == 400 and "team" in r.json()["errors"]
    r = api(dispatcher).post(f"/api/v1/incidents/{offered.incident_id}/assignments/", {"team": "x"}, format="json")
    assert r.status_code == 400
    assert Assignment.objects.get(pk=offered.pk).status == S.OFFERED
    assert o.post("/api/v1/assignments/99999/accept/").status_code == 404


def test_offer_to_an_assigned_incident_is_409(api: Any, offered: Assignment, dispatcher: Any, on_shift_b: Any) -> None:
    r = api(dispatcher).post(
        f"/api/v1/incidents/{offered.incident_id}/assignments/", {"team": on_shift_b.team_id}, format="json"
    )
    assert r.status_code == 409
    assert r.json()["current"]["team_call_sign"] == "CR-A"


def test_reassign_and_cancel_over_http(api: Any, offered: Assignment, dispatcher: Any, on_shift_b: Any) -> None:
    d = api(dispatcher)
    r = d.post(f"/api/v1/incidents/{offered.incident_id}/reassign/", {"team": on_shift_b.team_id}, format="json")
    assert r.status_code == 400  # reason required
    r = d.post(f"/api/v1/incidents/{offered.incident_id}/reassign/",
               {"team": on_shift_b.team_id, "reason": "closer"}, format="json")  # fmt: skip
    assert r.status_code == 201
    r = d.post(f"/api/v1/assignments/{r.json()['id']}/cancel/", {"reason": "resolved by phone"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    statuses = [a["status"] for a in d.get(f"/api/v1/incidents/{offered.incident_id}/").json()["assignments"]]
    assert sorted(statuses) == ["cancelled", "cancelled"]


def test_patch_updates_and_rejects_unknown_fields(api: Any, incident: Incident, dispatcher: Any) -> None:
    d = api(dispatcher)
    r = d.patch(f"/api/v1/incidents/{incident.pk}/", {"priority": 2, "beat": "D3"}, format="json")
    assert r.status_code == 200
    assert {(e["field"], e["new_value"]) for e in r.json()["timeline"]} >= {("priority", "2"), ("beat", "D3")}
    r = d.patch(f"/api/v1/incidents/{incident.pk}/", {"status": "Closed"}, format="json")
    assert r.status_code == 400
    assert Incident.objects.get(pk=incident.pk).status == "Active"


def test_recommendations_list_available_first(
    api: Any, make_incident: Any, dispatcher: Any, officer_a: Any, on_shift_a: Any, on_shift_b: Any
) -> None:
    busy = make_incident(address="busy")
    a = services.assignment_offer(incident_id=busy.pk, team_id=on_shift_a.team_id, by=dispatcher)
    services.assignment_accept(assignment_id=a.pk, by=officer_a)
    new = make_incident(address="new")
    rows = api(dispatcher).get(f"/api/v1/incidents/{new.pk}/recommendations/").json()
    assert [(r["team"]["call_sign"], r["status"]) for r in rows] == [
        ("CR-B", "available"),
        ("CR-A", "not_available"),
    ]
    assert rows[1]["current_assignment"]["id"] == a.pk
    assert rows[0]["current_assignment"] is None
    services.assignment_status_update(assignment_id=a.pk, by=officer_a, status=S.EN_ROUTE)
    services.assignment_status_update(assignment_id=a.pk, by=officer_a, status=S.ON_SCENE)
    services.assignment_status_update(assignment_id=a.pk, by=officer_a, status=S.TRANSPORTING)
    rows = api(dispatcher).get(f"/api/v1/incidents/{new.pk}/recommendations/").json()
    assert [r["status"] for r in rows] == ["available", "conditionally_available"]
    services.assignment_status_update(assignment_id=a.pk, by=officer_a, status=S.CLEARED)
    rows = api(dispatcher).get(f"/api/v1/incidents/{new.pk}/recommendations/").json()
    by_team = {r["team"]["call_sign"]: r for r in rows}
    assert by_team["CR-A"]["status"] == "available"
    assert by_team["CR-A"]["minutes_since_clear"] == 0
    # B never cleared a call: it has waited longest, so it comes first.
    assert rows[0]["team"]["call_sign"] == "CR-B"
    assert api(officer_a).get(f"/api/v1/incidents/{new.pk}/recommendations/").status_code == 403


def test_board_orders_by_priority_then_age_and_shows_assignment_state(
    api: Any, make_incident: Any, dispatcher: Any, on_shift_a: Any
) -> None:
    now = timezone.now()
    low_old = make_incident(priority=3, received_at=now - dt.timedelta(minutes=30))
    high_new = make_incident(priority=9, received_at=now - dt.timedelta(minutes=1))
    high_old = make_incident(priority=9, received_at=now - dt.timedelta(minutes=10))
    closed = make_incident(priority=10)
    Incident.objects.filter(pk=closed.pk).update(status="Closed")
    services.assignment_offer(incident_id=high_new.pk, team_id=on_shift_a.team_id, by=dispatcher)
    rows = api(dispatcher).get("/api/v1/incidents/board/").json()["results"]
    assert [r["id"] for r in rows] == [high_old.pk, high_new.pk, low_old.pk]
    assert rows[1]["assignment"]["status"] == "offered"
    assert rows[1]["assignment"]["team"]["call_sign"] == "CR-A"
    assert rows[0]["assignment"] is None
    assert rows[0]["age_seconds"] >= 600


def test_list_filters(api: Any, make_incident: Any, dispatcher: Any, on_shift_a: Any) -> None:
    now = timezone.now()
    a = make_incident(call_type_code="WELFARE", received_at=now - dt.timedelta(days=2))
    b = make_incident(call_type_code="OD")
    services.assignment_offer(incident_id=b.pk, team_id=on_shift_a.team_id, by=dispatcher)
    d = api(dispatcher)

    def ids(query: str) -> set[int]:
        response = d.get(f"/api/v1/incidents/?{query}")
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["results"]}

    assert ids("call_type=welfare") == {a.pk}
    assert ids(f"team={on_shift_a.team_id}") == {b.pk}
    since = (now - dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"received_from={since}") == {b.pk}
    assert ids("status=Active") == {a.pk, b.pk}
    assert ids("status=Closed") == set()
    assert ids("open=false") == set()
    assert d.get("/api/v1/incidents/?status=Nope").status_code == 400
    assert d.get("/api/v1/incidents/?received_from=2026-01-01T00:00:00").status_code == 400


def _populate(n: int, *, team_ids: list[int]) -> None:
    """n incidents, every other one with an offered assignment (made directly: test data only)."""
    for i in range(n):
        incident = Incident.objects.create(call_type_code="EDP", priority=i % 11, address=f"{i} Main St",
                                           subject_name=f"Person {i}")  # fmt: skip
        if i % 2 == 0:
            Assignment.objects.create(incident=incident, team_id=team_ids[i % len(team_ids)])


@pytest.mark.parametrize(
    ("url", "who"),
    [
        ("/api/v1/incidents/", "dispatcher"),
        ("/api/v1/incidents/", "officer_a"),
        ("/api/v1/incidents/", "clinician_a"),
        ("/api/v1/incidents/board/", "dispatcher"),
        ("/api/v1/incidents/board/", "supervisor"),
    ],
)
def test_lists_run_a_constant_number_of_queries(
    api: Any, request: Any, django_assert_num_queries: Any, on_shift_a: Any, on_shift_b: Any, url: str, who: str
) -> None:
    client = api(request.getfixturevalue(who))
    teams = [on_shift_a.team_id, on_shift_b.team_id]
    _populate(3, team_ids=teams)
    client.get(url)  # warm the per-user role cache, as the session's user would be
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _populate(27, team_ids=teams)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.json()["count"] == 30
    assert len(small.captured_queries) <= 6


def test_inbox_runs_a_constant_number_of_queries(
    api: Any, officer_a: Any, on_shift_a: Any, django_assert_num_queries: Any
) -> None:
    client = api(officer_a)
    _populate(3, team_ids=[on_shift_a.team_id])
    client.get("/api/v1/assignments/inbox/")  # warm the per-user role cache
    with CaptureQueriesContext(connection) as small:
        first = client.get("/api/v1/assignments/inbox/").json()
    _populate(27, team_ids=[on_shift_a.team_id])
    with django_assert_num_queries(len(small.captured_queries)):
        second = client.get("/api/v1/assignments/inbox/").json()
    assert len(first) == 2 and len(second) == 16
    assert all("subject_name" in row["incident"] for row in second)  # the officer's own current calls


def test_on_duty_status_is_derived_in_constant_queries(
    api: Any, dispatcher: Any, on_shift_a: Any, on_shift_b: Any, django_assert_num_queries: Any
) -> None:
    from apps.incidents.selectors import team_availability

    _populate(10, team_ids=[on_shift_a.team_id])
    with django_assert_num_queries(4):
        teams = team_availability()
    assert {t.team.call_sign: t.status for t in teams} == {"CR-A": "not_available", "CR-B": "available"}
    Assignment.objects.filter(team_id=on_shift_a.team_id).update(status=S.AT_FACILITY)
    assert {t.team.call_sign: t.status for t in team_availability()}["CR-A"] == "conditionally_available"
    body = api(dispatcher).get("/api/v1/teams/on-duty/").json()
    assert {r["team"]["call_sign"]: r["status"] for r in body} == {
        "CR-A": "conditionally_available",
        "CR-B": "available",
    }


def test_the_incident_apis_add_no_schema_warnings() -> None:
    import re

    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    validate_schema(schema)  # type: ignore[no-untyped-call]
    ours = [m for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if re.search("apps/incidents/", m)]
    GENERATOR_STATS.reset()
    assert ours == []
    for path in ("/api/v1/incidents/", "/api/v1/incidents/{incident_id}/recommendations/", "/api/v1/cad/incidents"):
        assert path in schema["paths"]


def test_a_team_filter_beyond_the_database_integer_is_a_400(api: Any, dispatcher: Any) -> None:
    response = api(dispatcher).get("/api/v1/incidents/", {"team": "99999999999999999999"})
    assert response.status_code == 400
    assert "team" in response.json()["errors"]
