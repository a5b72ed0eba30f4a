"""manage.py seed_demo: demo teams, one person per role, a week of shifts with one coverage gap, and calls
now and past: at any hour a team is free and a call waits to be offered."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import override_settings

from apps.accounts.models import User
from apps.accounts.roles import ALL_ROLES
from apps.core.timefmt import local_day_bounds
from apps.shifts.models import Shift, ShiftMember
from apps.shifts.selectors import coverage_gaps
from apps.teams.models import Team, TeamMembership

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "teams": Team.objects.count(),
        "memberships": TeamMembership.objects.count(),
        "shifts": Shift.objects.count(),
        "members": ShiftMember.objects.count(),
    }


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@override_settings(DEMO_MODE=True)
def test_seeding_twice_changes_nothing_the_second_time() -> None:
    with time_machine.travel(dt.datetime(2026, 6, 3, 9, tzinfo=NY), tick=False):
        seed()
        first = counts()
        output = seed()
        assert counts() == first
    assert "0 new shift(s), 0 new call(s) now" in output
    assert first["teams"] == 4
    assert first["shifts"] > 0


@override_settings(DEMO_MODE=True)
def test_the_seed_has_four_teams_and_a_person_for_every_role() -> None:
    with time_machine.travel(dt.datetime(2026, 6, 3, 9, tzinfo=NY), tick=False):
        seed()
    assert sorted(Team.objects.values_list("call_sign", flat=True)) == ["CR-1", "CR-2", "CR-3", "CR-4"]
    held = {role for user in User.objects.prefetch_related("groups") for role in user.roles}
    assert held == ALL_ROLES
    assert User.objects.get(username="supervisor").is_staff
    assert not User.objects.get(username="officer1").is_staff
    assert User.objects.get(username="officer1").check_password("coresponse-demo")


@pytest.mark.parametrize(
    ("today", "gap_hours"),
    [
        pytest.param(dt.date(2026, 6, 3), 12.0, id="an ordinary week"),
        pytest.param(dt.date(2026, 10, 28), 13.0, id="the gap night is the fall-back night"),
        pytest.param(dt.date(2026, 3, 4), 11.0, id="the gap night is the spring-forward night"),
    ],
)
@override_settings(DEMO_MODE=True)
def test_the_seed_covers_today_and_the_next_seven_days_but_one_night(today: dt.date, gap_hours: float) -> None:
    with time_machine.travel(dt.datetime.combine(today, dt.time(9), tzinfo=NY), tick=False):
        seed()
    start = local_day_bounds(today)[0]
    gaps = coverage_gaps(start=start, end=local_day_bounds(today + dt.timedelta(days=7))[1])
    assert len(gaps) == 1
    (gap,) = gaps
    assert gap.starts_at == dt.datetime.combine(today + dt.timedelta(days=3), dt.time(19), tzinfo=NY)
    assert gap.hours == gap_hours


@override_settings(DEMO_MODE=False)
def test_the_seed_refuses_to_run_outside_demo_mode() -> None:
    with pytest.raises(CommandError):
        seed()
    assert counts()["users"] == 0
