"""Who is on duty at a given moment, and what it costs in queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.shifts.selectors import coverage_gaps, shift_current_for_user, teams_on_duty
from apps.shifts.services import MemberSpec, shift_create
from apps.teams.models import Team

from .conftest import ny

pytestmark = pytest.mark.django_db

START = ny(2026, 6, 1, 8)
END = ny(2026, 6, 1, 18)


@pytest.fixture
def day_shift(book: Callable[..., Any]) -> Any:
    return book(START, END)


@pytest.mark.parametrize(
    ("moment", "on_duty"),
    [
        pytest.param(START - dt.timedelta(seconds=1), False, id="a second before the start"),
        pytest.param(START, True, id="exactly at the start"),
        pytest.param(ny(2026, 6, 1, 13), True, id="mid-shift"),
        pytest.param(END - dt.timedelta(seconds=1), True, id="a second before the end"),
        pytest.param(END, False, id="exactly at the end"),
    ],
)
def test_a_team_is_on_duty_from_its_start_up_to_but_not_including_its_end(
    day_shift: Any, moment: dt.datetime, on_duty: bool
) -> None:
    teams = teams_on_duty(at=moment)
    assert [t.team.call_sign for t in teams] == (["CR-A"] if on_duty else [])


def test_on_duty_lists_the_members_of_the_covering_shift(day_shift: Any, clinician_a: Any, officer_a: Any) -> None:
    (entry,) = teams_on_duty(at=ny(2026, 6, 1, 12))
    assert entry.shift.pk == day_shift.pk
    assert {m.user_id for m in entry.members} == {clinician_a.pk, officer_a.pk}


def test_at_a_handover_only_the_incoming_shift_is_on_duty(book: Callable[..., Any], team_b: Any) -> None:
    book(START, END)
    night = book(END, END + dt.timedelta(hours=12))
    (entry,) = teams_on_duty(at=END)
    assert entry.shift.pk == night.pk


def test_an_inactive_team_is_not_on_duty(day_shift: Any, team_a: Any) -> None:
    team_a.is_active = False
    team_a.save()
    assert teams_on_duty(at=ny(2026, 6, 1, 12)) == []


def _add_teams(make_user: Callable[..., Any], count: int, offset: int) -> None:
    for i in range(offset, offset + count):
        team = Team.objects.create(call_sign=f"CR-{i:02d}")
        clin = make_user(f"clin{i}", "clinician")
        off = make_user(f"off{i}", "officer")
        shift_create(
            team=team,
            starts_at=START,
            ends_at=END,
            members=[MemberSpec(clin, "clinician"), MemberSpec(off, "officer")],
        )


def _count_on_duty_queries(at: dt.datetime) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        teams = teams_on_duty(at=at)
        for entry in teams:
            _ = [(m.user.display_name, m.role) for m in entry.members]
            _ = entry.team.call_sign
    return len(ctx.captured_queries), len(teams)


def test_teams_on_duty_runs_a_constant_number_of_queries_as_teams_grow(
    make_user: Callable[..., Any], django_assert_max_num_queries: Any
) -> None:
    noon = ny(2026, 6, 1, 12)
    _add_teams(make_user, 2, 0)
    small_queries, small_teams = _count_on_duty_queries(noon)
    _add_teams(make_user, 10, 2)
    with django_assert_max_num_queries(small_queries):
        large = teams_on_duty(at=noon)
        for entry in large:
            _ = [(m.user.display_name, m.role) for m in entry.members]
            _ = entry.team.call_sign
    large_queries, large_teams = _count_on_duty_queries(noon)
    assert (small_teams, large_teams) == (2, 12)
    assert large_queries == small_queries
    assert small_queries <= 2  # shifts+team, members+user


def test_the_current_shift_of_a_person_is_the_one_covering_now(
    day_shift: Any, clinician_a: Any, clinician_b: Any
) -> None:
    assert shift_current_for_user(user=clinician_a, at=ny(2026, 6, 1, 9)) == day_shift
    assert shift_current_for_user(user=clinician_a, at=END) is None
    assert shift_current_for_user(user=clinician_b, at=ny(2026, 6, 1, 9)) is None


def test_coverage_gaps_are_the_hours_with_no_co_response_team(book: Callable[..., Any]) -> None:
    book(ny(2026, 6, 1, 0), ny(2026, 6, 1, 8))
    book(ny(2026, 6, 1, 10), ny(2026, 6, 1, 20))
    gaps = coverage_gaps(start=ny(2026, 6, 1), end=ny(2026, 6, 2))
    assert [(g.starts_at, g.ends_at) for g in gaps] == [
        (ny(2026, 6, 1, 8), ny(2026, 6, 1, 10)),
        (ny(2026, 6, 1, 20), ny(2026, 6, 2)),
    ]
    assert [g.hours for g in gaps] == [2.0, 4.0]


def test_overlapping_shifts_of_two_teams_leave_no_gap(
    book: Callable[..., Any], team_b: Any, clinician_b: Any, officer_b: Any
) -> None:
    book(ny(2026, 6, 1, 0), ny(2026, 6, 1, 14))
    book(
        ny(2026, 6, 1, 12), ny(2026, 6, 2, 2), team=team_b, members=[(clinician_b, "clinician"), (officer_b, "officer")]
    )
    assert coverage_gaps(start=ny(2026, 6, 1), end=ny(2026, 6, 2)) == []


def test_an_uncovered_fall_back_day_is_a_25_hour_gap() -> None:
    gaps = coverage_gaps(start=ny(2026, 11, 1), end=ny(2026, 11, 2))
    assert [g.hours for g in gaps] == [25.0]


def test_an_uncovered_spring_forward_night_counts_real_hours(book: Callable[..., Any]) -> None:
    book(ny(2026, 3, 8, 8), ny(2026, 3, 8, 20))
    gaps = coverage_gaps(start=ny(2026, 3, 8), end=ny(2026, 3, 9))
    assert [g.hours for g in gaps] == [7.0, 4.0]  # 00:00–08:00 lost an hour to the clock change


def test_on_duty_for_one_team_reads_only_that_team(
    book: Callable[..., Any], team_b: Any, clinician_b: Any, officer_b: Any
) -> None:
    book(START, END)
    book(START, END, team=team_b, members=[(clinician_b, "clinician"), (officer_b, "officer")])
    moment = ny(2026, 6, 1, 12)
    assert [t.team.call_sign for t in teams_on_duty(at=moment)] == ["CR-A", "CR-B"]
    assert [t.team.call_sign for t in teams_on_duty(at=moment, team_ids=[team_b.pk])] == ["CR-B"]
    assert teams_on_duty(at=moment, team_ids=[]) == []
