"""The closed-calls search for dispatchers: by received day, CAD number, address, team and disposition,
paginated, with the same field filtering by role as the open incidents."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.clinical.models import Disposition, Encounter
from apps.incidents import services
from apps.incidents.models import Incident

NY = ZoneInfo("America/New_York")
URL = "/api/v1/incidents/closed/"


def close_call(
    *, by: Any, member: Any, team_id: int, number: str, address: str, received: dt.datetime, codes: tuple[str, ...] = ()
) -> Incident:
    incident = services.incident_create(
        by=by,
        values={
            "call_type_code": "MNTL",
            "priority": 5,
            "address": address,
            "subject_name": f"Subject of {number}",
            "received_at": received,
        },
        cad_source="durham",
        cad_number=number,
    )
    offer = services.assignment_offer(incident_id=incident.pk, team_id=team_id, by=by)
    services.assignment_accept(assignment_id=offer.pk, by=member)
    for status in ("en_route", "on_scene", "cleared"):
        services.assignment_status_update(assignment_id=offer.pk, by=member, status=status)
    if codes:
        encounter = Encounter.objects.create(kind="incident", incident=incident, created_by=member)
        for code in codes:
            Disposition.objects.create(encounter=encounter, code=code, recorded_by=member)
    incident.refresh_from_db()
    return incident


@pytest.fixture
def calls(dispatcher: Any, officer_a: Any, officer_b: Any, on_shift_a: Any, on_shift_b: Any) -> dict[str, Incident]:
    now = dt.datetime.now(NY)
    yesterday = now - dt.timedelta(days=1)
    return {
        "a": close_call(by=dispatcher, member=officer_a, team_id=on_shift_a.team_id, number="D1-0001",
                        address="200 E Main St", received=yesterday, codes=("resolved_on_scene",)),
        "b": close_call(by=dispatcher, member=officer_b, team_id=on_shift_b.team_id, number="D1-0002",
                        address="500 W Chapel Hill St", received=now - dt.timedelta(minutes=5),
                        codes=("arrest", "transport_ed")),
        "c": close_call(by=dispatcher, member=officer_a, team_id=on_shift_a.team_id, number="D1-0003",
                        address="12 Main Street", received=now - dt.timedelta(minutes=3)),
    }  # fmt: skip


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_closed_calls_newest_closed_first_with_team_and_dispositions(
    api: Any, dispatcher: Any, calls: dict[str, Incident], incident: Incident
) -> None:
    body = api(dispatcher).get(URL).json()
    assert [r["id"] for r in body["results"]] == [calls["c"].pk, calls["b"].pk, calls["a"].pk]  # open one left out
    b = body["results"][1]
    assert b["team"]["call_sign"] == "CR-B"
    assert b["dispositions"] == [
        {"code": "arrest", "label": "Arrest"},
        {"code": "transport_ed", "label": "Voluntary transport to ED"},
    ]
    assert b["subject_name"] == "Subject of D1-0002" and b["status"] == "Closed"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"cad_number": "0002"}, ["b"]),
        ({"address": "main st"}, ["c", "a"]),
        ({"team": "cr-a"}, ["c", "a"]),
        ({"disposition": "arrest"}, ["b"]),
        ({"disposition": "resolved_on_scene", "team": "CR-A"}, ["a"]),
        ({"disposition": "citation"}, []),
    ],
)
def test_search_by_cad_number_address_team_and_disposition(
    api: Any, dispatcher: Any, calls: dict[str, Incident], query: dict[str, str], expected: list[str]
) -> None:
    assert ids(api(dispatcher).get(URL, query)) == [calls[k].pk for k in expected]


def test_search_by_received_day_in_local_time(api: Any, dispatcher: Any, calls: dict[str, Incident]) -> None:
    today = dt.datetime.now(NY).date()
    yesterday = today - dt.timedelta(days=1)
    client = api(dispatcher)
    assert ids(client.get(URL, {"date_from": str(yesterday), "date_to": str(yesterday)})) == [calls["a"].pk]
    assert calls["a"].pk not in ids(client.get(URL, {"date_from": str(today)}))
    assert ids(client.get(URL, {"date_to": str(yesterday - dt.timedelta(days=1))})) == []


def test_pages(api: Any, dispatcher: Any, calls: dict[str, Incident]) -> None:
    first = api(dispatcher).get(URL, {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = api(dispatcher).get(URL, {"page_size": 2, "page": 2}).json()
    assert [r["id"] for r in second["results"]] == [calls["a"].pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"disposition": "made_up"}, "disposition"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2026-06-03", "date_to": "2026-06-01"}, "date_to"),
        ({"address": "x" * 301}, "address"),
    ],
)
def test_bad_search_input_is_a_400_naming_the_field(
    api: Any, dispatcher: Any, query: dict[str, str], field: str
) -> None:
    response = api(dispatcher).get(URL, query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_an_officer_sees_closed_calls_without_identity(api: Any, officer_a: Any, calls: dict[str, Incident]) -> None:
    body = api(officer_a).get(URL, {"address": "Main"}).json()
    assert [r["id"] for r in body["results"]] == [calls["c"].pk, calls["a"].pk]
    assert all("subject_name" not in r and r["access"] == "officer" for r in body["results"])


def test_a_role_that_cannot_see_addresses_cannot_search_by_them(
    api: Any, analyst: Any, calls: dict[str, Incident], make_user: Any
) -> None:
    response = api(analyst).get(URL, {"address": "Main"})
    assert response.status_code in (400, 403)  # 403 once analysts read no incident rows at all
    assert "Main St" not in response.content.decode()
    assert api(make_user("nobody")).get(URL).status_code == 403


def test_the_list_runs_a_constant_number_of_queries(
    api: Any, dispatcher: Any, officer_a: Any, on_shift_a: Any, django_assert_num_queries: Any
) -> None:
    client = api(dispatcher)
    now = dt.datetime.now(NY)
    for i in range(2):
        close_call(by=dispatcher, member=officer_a, team_id=on_shift_a.team_id, number=f"Q-{i}",
                   address=f"{i} Main St", received=now, codes=("arrest",))  # fmt: skip
    client.get(URL)
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(URL).json()["results"]) == 2
    for i in range(2, 8):
        close_call(by=dispatcher, member=officer_a, team_id=on_shift_a.team_id, number=f"Q-{i}",
                   address=f"{i} Main St", received=now, codes=("arrest",))  # fmt: skip
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get(URL).json()["results"]) == 8
