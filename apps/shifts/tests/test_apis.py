"""The shift and on-duty API as the apps and supervisors use it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.shifts.models import Shift, ShiftMember

from .conftest import ny

pytestmark = pytest.mark.django_db

SHIFTS = "/api/v1/shifts/"
ON_DUTY = "/api/v1/teams/on-duty/"


def payload(team: Any, start: dt.datetime, end: dt.datetime, *members: tuple[Any, str]) -> dict[str, Any]:
    return {
        "team": team.pk,
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "note": "",
        "members": [{"user": u.pk, "role": r} for u, r in members],
    }


@pytest.fixture
def sup_client(supervisor: Any, api: Callable[[Any], APIClient]) -> APIClient:
    return api(supervisor)


@pytest.fixture
def pair_a(clinician_a: Any, officer_a: Any) -> tuple[tuple[Any, str], tuple[Any, str]]:
    return (clinician_a, "clinician"), (officer_a, "officer")


def test_a_supervisor_creates_a_shift_and_gets_it_back_in_utc(
    sup_client: APIClient, team_a: Any, pair_a: Any, supervisor: Any
) -> None:
    body = payload(team_a, ny(2026, 3, 7, 20), ny(2026, 3, 8, 8), *pair_a)
    response = sup_client.post(SHIFTS, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["team"] == {"id": team_a.pk, "call_sign": "CR-A"}
    # Shown in America/New_York with its offset; the same instants as stored in UTC.
    assert data["starts_at"] == "2026-03-07T20:00:00-05:00"
    assert data["ends_at"] == "2026-03-08T08:00:00-04:00"
    assert {m["role"] for m in data["members"]} == {"clinician", "officer"}
    shift = Shift.objects.get()
    assert shift.created_by == supervisor
    assert shift.duration == dt.timedelta(hours=11)


def _assert_refused(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    body: dict[str, Any] = response.json()
    assert set(body) >= {"message", "errors"}
    assert field in body["errors"], body
    assert all(isinstance(m, str) and m for m in body["errors"][field])
    assert Shift.objects.count() == 0 or field != "__none__"
    return body


def test_an_overlapping_shift_is_a_400_naming_members_and_nothing_is_saved(
    sup_client: APIClient, team_a: Any, team_b: Any, pair_a: Any, officer_b: Any, clinician_a: Any
) -> None:
    sup_client.post(SHIFTS, payload(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), *pair_a), format="json")
    before = (Shift.objects.count(), ShiftMember.objects.count())
    response = sup_client.post(
        SHIFTS,
        payload(team_b, ny(2026, 6, 1, 17), ny(2026, 6, 2, 1), (clinician_a, "clinician"), (officer_b, "officer")),
        format="json",
    )
    body = _assert_refused(response, "members")
    assert "already on CR-A" in body["errors"]["members"][0]
    assert (Shift.objects.count(), ShiftMember.objects.count()) == before == (1, 2)


def test_an_inverted_shift_is_a_400_naming_ends_at(sup_client: APIClient, team_a: Any, pair_a: Any) -> None:
    response = sup_client.post(SHIFTS, payload(team_a, ny(2026, 6, 1, 18), ny(2026, 6, 1, 8), *pair_a), format="json")
    _assert_refused(response, "ends_at")
    assert Shift.objects.count() == 0


def test_an_unknown_person_is_a_400_naming_the_member(sup_client: APIClient, team_a: Any, clinician_a: Any) -> None:
    body = payload(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), (clinician_a, "clinician"))
    body["members"].append({"user": 999_999, "role": "officer"})
    response = sup_client.post(SHIFTS, body, format="json")
    errors = response.json()["errors"]
    assert response.status_code == 400
    assert any(key.startswith("members") and "user" in key for key in errors), errors
    assert Shift.objects.count() == 0


def test_an_unknown_team_is_a_400_naming_team(sup_client: APIClient, team_a: Any, pair_a: Any) -> None:
    body = payload(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), *pair_a)
    body["team"] = 424242
    _assert_refused(sup_client.post(SHIFTS, body, format="json"), "team")
    assert Shift.objects.count() == 0


def test_a_shift_with_two_officers_and_no_clinician_is_a_400(
    sup_client: APIClient, team_a: Any, officer_a: Any, officer_b: Any
) -> None:
    body = payload(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), (officer_a, "officer"), (officer_b, "officer"))
    response = sup_client.post(SHIFTS, body, format="json")
    _assert_refused(response, "members")
    assert "at least one clinician and one officer" in response.json()["errors"]["members"][0]
    assert (Shift.objects.count(), ShiftMember.objects.count()) == (0, 0)


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
def test_a_naive_datetime_is_a_400_naming_the_field(
    sup_client: APIClient, team_a: Any, pair_a: Any, field: str
) -> None:
    body = payload(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), *pair_a)
    body[field] = "2026-06-01T12:00:00"
    response = sup_client.post(SHIFTS, body, format="json")
    _assert_refused(response, field)
    assert "timezone" in response.json()["errors"][field][0]
    assert Shift.objects.count() == 0


def test_a_shift_without_members_is_a_400(sup_client: APIClient, team_a: Any) -> None:
    response = sup_client.post(SHIFTS, payload(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18)), format="json")
    _assert_refused(response, "members")


def test_a_refused_update_leaves_the_shift_unchanged(
    sup_client: APIClient, team_a: Any, pair_a: Any, officer_b: Any, officer_a: Any
) -> None:
    created = sup_client.post(SHIFTS, payload(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), *pair_a), format="json")
    shift_id = created.json()["id"]
    body = payload(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), (officer_a, "officer"), (officer_b, "officer"))
    response = sup_client.put(f"{SHIFTS}{shift_id}/", body, format="json")
    _assert_refused(response, "members")
    assert set(ShiftMember.objects.filter(shift_id=shift_id).values_list("role", flat=True)) == {"clinician", "officer"}


def test_a_supervisor_moves_and_deletes_a_shift(sup_client: APIClient, team_a: Any, pair_a: Any) -> None:
    shift_id = sup_client.post(
        SHIFTS, payload(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), *pair_a), format="json"
    ).json()["id"]
    moved = sup_client.put(
        f"{SHIFTS}{shift_id}/", payload(team_a, ny(2026, 6, 2, 8), ny(2026, 6, 2, 18), *pair_a), format="json"
    )
    assert moved.status_code == 200
    assert dt.datetime.fromisoformat(moved.json()["starts_at"]) == dt.datetime(2026, 6, 2, 12, tzinfo=dt.UTC)
    assert sup_client.delete(f"{SHIFTS}{shift_id}/").status_code == 204
    assert Shift.objects.count() == 0
    assert sup_client.delete(f"{SHIFTS}{shift_id}/").status_code == 404


def test_the_shift_list_filters_by_local_days_team_and_person(
    sup_client: APIClient, book: Callable[..., Any], team_b: Any, clinician_b: Any, officer_b: Any, officer_a: Any
) -> None:
    late = book(ny(2026, 6, 1, 20), ny(2026, 6, 1, 23, 30))  # 00:00–03:30 UTC on 2 June
    next_day = book(ny(2026, 6, 2, 8), ny(2026, 6, 2, 18))
    other = book(
        ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), team=team_b, members=[(clinician_b, "clinician"), (officer_b, "officer")]
    )

    def ids(**params: Any) -> list[int]:
        response = sup_client.get(SHIFTS, params)
        assert response.status_code == 200, response.json()
        return [s["id"] for s in response.json()["results"]]

    assert ids(start="2026-06-01", end="2026-06-01") == [other.pk, late.pk]
    assert ids(start="2026-06-02", end="2026-06-02") == [next_day.pk]
    assert ids(start="2026-06-01", end="2026-06-02", team=team_b.pk) == [other.pk]
    assert ids(start="2026-06-01", end="2026-06-07", person=officer_a.pk) == [late.pk, next_day.pk]


def test_the_shift_list_defaults_to_the_next_seven_local_days(sup_client: APIClient, book: Callable[..., Any]) -> None:
    soon = book(ny(2026, 6, 3, 8), ny(2026, 6, 3, 18))
    book(ny(2026, 6, 20, 8), ny(2026, 6, 20, 18))
    with time_machine.travel(ny(2026, 6, 1, 9), tick=False):
        response = sup_client.get(SHIFTS)
    assert [s["id"] for s in response.json()["results"]] == [soon.pk]


def test_the_shift_list_is_paginated(sup_client: APIClient, book: Callable[..., Any]) -> None:
    for day in range(1, 8):
        book(ny(2026, 6, day, 8), ny(2026, 6, day, 12))
    response = sup_client.get(SHIFTS, {"start": "2026-06-01", "end": "2026-06-07", "page_size": "3"})
    body = response.json()
    assert body["count"] == 7
    assert len(body["results"]) == 3
    assert body["next"] is not None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-06-05", "end": "2026-06-01"}, "end"),
        ({"start": "2026-01-01", "end": "2026-12-31"}, "end"),
        ({"start": "yesterday"}, "start"),
        ({"team": 987654}, "team"),
        ({"person": 987654}, "person"),
        ({"start": "9999-12-31"}, "end"),
        ({"start": "9999-12-30", "end": "9999-12-31"}, "end"),
    ],
)
def test_bad_shift_list_filters_are_a_400_naming_the_filter(
    sup_client: APIClient, params: dict[str, Any], field: str
) -> None:
    response = sup_client.get(SHIFTS, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_on_duty_at_a_given_moment_lists_the_team_with_members(
    api: Callable[[Any], APIClient], dispatcher: Any, book: Callable[..., Any]
) -> None:
    shift = book(ny(2026, 6, 1, 8), ny(2026, 6, 1, 18))
    client = api(dispatcher)
    at_start = client.get(ON_DUTY, {"at": "2026-06-01T12:00:00Z"}).json()
    assert [t["shift_id"] for t in at_start] == [shift.pk]
    assert at_start[0]["team"]["call_sign"] == "CR-A"
    assert {m["role"] for m in at_start[0]["members"]} == {"clinician", "officer"}
    assert at_start[0]["status"] == "available"
    assert client.get(ON_DUTY, {"at": "2026-06-01T22:00:00Z"}).json() == []


def test_on_duty_defaults_to_now(api: Callable[[Any], APIClient], dispatcher: Any, book: Callable[..., Any]) -> None:
    shift = book(ny(2026, 6, 1, 8), ny(2026, 6, 1, 18))
    with time_machine.travel(ny(2026, 6, 1, 17, 59), tick=False):
        assert [t["shift_id"] for t in api(dispatcher).get(ON_DUTY).json()] == [shift.pk]
    with time_machine.travel(ny(2026, 6, 1, 18), tick=False):
        assert api(dispatcher).get(ON_DUTY).json() == []


def test_on_duty_refuses_a_naive_moment(api: Callable[[Any], APIClient], dispatcher: Any) -> None:
    response = api(dispatcher).get(ON_DUTY, {"at": "2026-06-01T12:00:00"})
    assert response.status_code == 400
    assert "at" in response.json()["errors"]


def _staff_teams(make_user: Callable[..., Any], first: int, count: int, start: dt.datetime, end: dt.datetime) -> None:
    from apps.shifts.services import MemberSpec, shift_create
    from apps.teams.models import Team

    for i in range(first, first + count):
        team = Team.objects.create(call_sign=f"CR-{i:02d}")
        shift_create(
            team=team,
            starts_at=start,
            ends_at=end,
            members=[
                MemberSpec(make_user(f"c{i}", "clinician"), "clinician"),
                MemberSpec(make_user(f"o{i}", "officer"), "officer"),
            ],
        )


@pytest.mark.parametrize("url", [ON_DUTY + "?at=2026-06-01T16:00:00Z", SHIFTS + "?start=2026-06-01&end=2026-06-01"])
def test_the_on_duty_and_shift_list_endpoints_cost_the_same_queries_for_2_or_12_teams(
    make_user: Callable[..., Any], dispatcher: Any, api: Callable[[Any], APIClient], url: str
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(dispatcher)
    client.get(url)  # warm-up: the forced user's roles are cached on it after the first request
    _staff_teams(make_user, 0, 2, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18))
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(url).json() if "on-duty" in url else client.get(url).json()["results"]) == 2
    _staff_teams(make_user, 2, 10, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18))
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(url).json() if "on-duty" in url else client.get(url).json()["results"]) == 12
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_shift_list_day_filter_follows_the_25_hour_fall_back_day(
    sup_client: APIClient, book: Callable[..., Any]
) -> None:
    late = book(ny(2026, 11, 1, 23), ny(2026, 11, 1, 23, 45))  # 04:00Z on 2 November
    response = sup_client.get(SHIFTS, {"start": "2026-11-01", "end": "2026-11-01"})
    assert [s["id"] for s in response.json()["results"]] == [late.pk]
    response = sup_client.get(SHIFTS, {"start": "2026-11-02", "end": "2026-11-02"})
    assert response.json()["results"] == []
