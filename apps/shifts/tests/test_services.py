"""The shift rules, as a supervisor meets them when booking people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from apps.shifts.models import Shift, ShiftMember
from apps.shifts.services import MemberSpec, shift_create, shift_update, shifts_copy, shifts_generate
from apps.teams.models import Team

from .conftest import ny

pytestmark = pytest.mark.django_db

MON = ny(2026, 6, 1, 8)  # Monday 1 June 2026, 08:00 EDT


def refused(call: Callable[[], Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value.message_dict


def test_a_valid_co_response_shift_is_stored_in_utc_with_its_members(
    book: Callable[..., Any], clinician_a: Any, officer_a: Any
) -> None:
    shift = book(MON, MON + dt.timedelta(hours=10))
    shift.refresh_from_db()
    assert shift.starts_at == MON
    assert shift.starts_at.utcoffset() == dt.timedelta(0)
    assert shift.starts_at.hour == 12  # 08:00 EDT is 12:00 UTC
    assert {(m.user_id, m.role) for m in shift.members.all()} == {
        (clinician_a.pk, "clinician"),
        (officer_a.pk, "officer"),
    }


@pytest.mark.parametrize(
    ("start_h", "end_h"),
    [
        pytest.param(6, 10, id="overlaps the start"),
        pytest.param(16, 20, id="overlaps the end"),
        pytest.param(10, 12, id="contained"),
        pytest.param(7, 19, id="containing"),
        pytest.param(8, 18, id="identical"),
    ],
)
def test_a_person_cannot_be_on_two_overlapping_shifts(
    book: Callable[..., Any], team_b: Any, clinician_a: Any, officer_b: Any, start_h: int, end_h: int
) -> None:
    book(MON, ny(2026, 6, 1, 18))
    errors = refused(
        lambda: book(
            ny(2026, 6, 1, start_h),
            ny(2026, 6, 1, end_h),
            team=team_b,
            members=[(clinician_a, "clinician"), (officer_b, "officer")],
        )
    )
    assert any("Clinician_A" in m or "Claire" in m for m in errors["members"]), errors
    assert Shift.objects.count() == 1
    assert ShiftMember.objects.count() == 2


def test_back_to_back_shifts_for_the_same_people_are_allowed(book: Callable[..., Any]) -> None:
    book(ny(2026, 6, 1, 8), ny(2026, 6, 1, 18))
    book(ny(2026, 6, 1, 18), ny(2026, 6, 2, 4))
    book(ny(2026, 6, 1, 0), ny(2026, 6, 1, 8))
    assert Shift.objects.count() == 3


def test_a_shift_that_ends_before_it_starts_is_refused(book: Callable[..., Any]) -> None:
    errors = refused(lambda: book(ny(2026, 6, 1, 18), ny(2026, 6, 1, 8)))
    assert errors["ends_at"] == ["End must be after start."]
    assert Shift.objects.count() == 0


def test_a_shift_that_ends_when_it_starts_is_refused(book: Callable[..., Any]) -> None:
    errors = refused(lambda: book(MON, MON))
    assert "ends_at" in errors
    assert Shift.objects.count() == 0


def test_a_shift_longer_than_24_hours_is_refused(book: Callable[..., Any]) -> None:
    errors = refused(lambda: book(MON, MON + dt.timedelta(hours=24, minutes=1)))
    assert errors["ends_at"] == ["A shift cannot be longer than 24 hours."]
    assert Shift.objects.count() == 0


def test_a_shift_of_exactly_24_hours_is_allowed(book: Callable[..., Any]) -> None:
    assert book(MON, MON + dt.timedelta(hours=24)).duration == dt.timedelta(hours=24)


def test_a_night_shift_crosses_midnight(book: Callable[..., Any]) -> None:
    shift = book(ny(2026, 6, 1, 20), ny(2026, 6, 2, 8))
    assert shift.duration == dt.timedelta(hours=12)


def test_a_night_shift_over_spring_forward_lasts_11_hours(book: Callable[..., Any]) -> None:
    shift = book(ny(2026, 3, 7, 20), ny(2026, 3, 8, 8))
    shift.refresh_from_db()
    assert shift.duration == dt.timedelta(hours=11)
    assert shift.starts_at == dt.datetime(2026, 3, 8, 1, tzinfo=dt.UTC)
    assert shift.ends_at == dt.datetime(2026, 3, 8, 12, tzinfo=dt.UTC)


def test_a_night_shift_over_fall_back_lasts_13_hours(book: Callable[..., Any]) -> None:
    shift = book(ny(2026, 10, 31, 20), ny(2026, 11, 1, 8))
    shift.refresh_from_db()
    assert shift.duration == dt.timedelta(hours=13)
    assert shift.starts_at == dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC)
    assert shift.ends_at == dt.datetime(2026, 11, 1, 13, tzinfo=dt.UTC)


def test_naive_datetimes_are_refused_by_the_service(book: Callable[..., Any]) -> None:
    naive = dt.datetime(2026, 6, 1, 8)  # noqa: DTZ001 - the point of the test
    errors = refused(lambda: book(naive, naive + dt.timedelta(hours=8)))
    assert errors["starts_at"] == ["Must be timezone-aware."]
    assert errors["ends_at"] == ["Must be timezone-aware."]
    assert Shift.objects.count() == 0


def test_shift_with_two_officers_and_no_clinician_is_refused(
    book: Callable[..., Any], officer_a: Any, officer_b: Any
) -> None:
    errors = refused(lambda: book(MON, ny(2026, 6, 1, 18), members=[(officer_a, "officer"), (officer_b, "officer")]))
    assert "A co-response shift needs at least one clinician and one officer." in errors["members"]
    assert Shift.objects.count() == 0
    assert ShiftMember.objects.count() == 0


def test_shift_with_a_clinician_alone_is_refused(book: Callable[..., Any], clinician_a: Any) -> None:
    errors = refused(lambda: book(MON, ny(2026, 6, 1, 18), members=[(clinician_a, "clinician")]))
    assert "A co-response shift needs at least one clinician and one officer." in errors["members"]


def test_shift_without_members_is_refused(book: Callable[..., Any]) -> None:
    errors = refused(lambda: book(MON, ny(2026, 6, 1, 18), members=[]))
    assert errors["members"] == ["A shift needs its members."]


def test_a_community_response_team_does_not_need_an_officer(make_user: Callable[..., Any]) -> None:
    team = Team.objects.create(call_sign="CMR-1", kind=Team.Kind.COMMUNITY_RESPONSE)
    clin = make_user("cmr_clin", "clinician")
    shift = shift_create(
        team=team, starts_at=MON, ends_at=MON + dt.timedelta(hours=8), members=[MemberSpec(clin, "clinician")]
    )
    assert shift.pk is not None


def test_a_member_must_hold_the_role_they_ride_as(book: Callable[..., Any], officer_a: Any, officer_b: Any) -> None:
    errors = refused(lambda: book(MON, ny(2026, 6, 1, 18), members=[(officer_b, "clinician"), (officer_a, "officer")]))
    assert any("does not hold the clinician role" in m for m in errors["members"]), errors
    assert Shift.objects.count() == 0


def test_an_inactive_person_cannot_be_booked(book: Callable[..., Any], clinician_a: Any, officer_a: Any) -> None:
    officer_a.is_active = False
    officer_a.save()
    errors = refused(lambda: book(MON, ny(2026, 6, 1, 18)))
    assert any("not an active user" in m for m in errors["members"])


def test_the_same_person_listed_twice_is_refused(book: Callable[..., Any], clinician_a: Any, officer_a: Any) -> None:
    errors = refused(
        lambda: book(
            MON,
            ny(2026, 6, 1, 18),
            members=[(clinician_a, "clinician"), (officer_a, "officer"), (clinician_a, "other")],
        )
    )
    assert any("listed twice" in m for m in errors["members"])
    assert ShiftMember.objects.count() == 0


def test_booking_the_same_shift_twice_is_refused(book: Callable[..., Any]) -> None:
    book(MON, ny(2026, 6, 1, 18))
    refused(lambda: book(MON, ny(2026, 6, 1, 18)))
    assert Shift.objects.count() == 1


def test_a_shift_on_an_inactive_team_is_refused(book: Callable[..., Any], team_a: Any) -> None:
    team_a.is_active = False
    team_a.save()
    errors = refused(lambda: book(MON, ny(2026, 6, 1, 18)))
    assert errors["team"] == ["Team CR-A is not active."]
    assert Shift.objects.count() == 0


def test_updating_a_shift_does_not_clash_with_itself(
    book: Callable[..., Any], clinician_a: Any, officer_a: Any
) -> None:
    shift = book(MON, ny(2026, 6, 1, 18))
    updated = shift_update(
        shift=shift,
        team=shift.team,
        starts_at=MON + dt.timedelta(hours=1),
        ends_at=ny(2026, 6, 1, 19),
        members=[MemberSpec(clinician_a, "clinician"), MemberSpec(officer_a, "officer")],
        note="moved",
    )
    updated.refresh_from_db()
    assert updated.starts_at == MON + dt.timedelta(hours=1)
    assert updated.members.count() == 2


def test_a_refused_update_leaves_the_shift_as_it_was(
    book: Callable[..., Any], clinician_a: Any, officer_a: Any, officer_b: Any
) -> None:
    shift = book(MON, ny(2026, 6, 1, 18))
    refused(
        lambda: shift_update(
            shift=shift,
            team=shift.team,
            starts_at=MON,
            ends_at=ny(2026, 6, 1, 18),
            members=[MemberSpec(officer_a, "officer"), MemberSpec(officer_b, "officer")],
            note="bad",
        )
    )
    shift.refresh_from_db()
    assert shift.note == ""
    assert {m.user_id for m in shift.members.all()} == {clinician_a.pk, officer_a.pk}


def test_copying_a_week_keeps_wall_clock_times_across_spring_forward(book: Callable[..., Any]) -> None:
    # Monday 2 March 2026 08:00–18:00 EST → Monday 9 March 08:00–18:00 EDT (the clocks changed on the 8th).
    shift = book(ny(2026, 3, 2, 8), ny(2026, 3, 2, 18))
    result = shifts_copy(shifts=[shift], days=7)
    assert result.conflicts == []
    (copy,) = result.created
    assert copy.starts_at == ny(2026, 3, 9, 8)
    assert copy.ends_at == ny(2026, 3, 9, 18)
    elapsed = copy.starts_at.astimezone(dt.UTC) - shift.starts_at.astimezone(dt.UTC)
    assert elapsed == dt.timedelta(days=7) - dt.timedelta(hours=1)
    assert {(m.user_id, m.role) for m in copy.members.all()} == {(m.user_id, m.role) for m in shift.members.all()}


def test_copying_a_night_shift_keeps_wall_clock_times_across_fall_back(book: Callable[..., Any]) -> None:
    shift = book(ny(2026, 10, 24, 20), ny(2026, 10, 25, 8))
    (copy,) = shifts_copy(shifts=[shift], days=7).created
    assert copy.starts_at == ny(2026, 10, 31, 20)
    assert copy.ends_at == ny(2026, 11, 1, 8)
    assert copy.duration == dt.timedelta(hours=13)


def test_copying_onto_a_booked_week_reports_the_conflict_and_creates_nothing(book: Callable[..., Any]) -> None:
    shift = book(MON, ny(2026, 6, 1, 18))
    book(ny(2026, 6, 8, 12), ny(2026, 6, 8, 20))
    result = shifts_copy(shifts=[shift], days=7)
    assert result.created == []
    assert len(result.conflicts) == 1
    label, problems = result.conflicts[0]
    assert "CR-A" in label
    assert "members" in problems
    assert Shift.objects.count() == 2


def test_generating_monday_to_friday_for_four_weeks_makes_20_shifts(
    team_a: Any, clinician_a: Any, officer_a: Any
) -> None:
    result = shifts_generate(
        team=team_a,
        members=[MemberSpec(clinician_a, "clinician"), MemberSpec(officer_a, "officer")],
        weekdays=[0, 1, 2, 3, 4],
        start_time=dt.time(8),
        end_time=dt.time(18),
        first_day=dt.date(2026, 6, 1),
        weeks=4,
    )
    assert len(result.created) == 20
    assert result.conflicts == []
    assert Shift.objects.count() == 20
    assert all(s.starts_at.astimezone(ny(2026, 1, 1).tzinfo).hour == 8 for s in result.created)
    assert {s.starts_at.astimezone(ny(2026, 1, 1).tzinfo).weekday() for s in result.created} == {0, 1, 2, 3, 4}


def test_generated_night_shifts_keep_wall_clock_times_over_both_dst_changes(
    team_a: Any, clinician_a: Any, officer_a: Any
) -> None:
    members = [MemberSpec(clinician_a, "clinician"), MemberSpec(officer_a, "officer")]
    spring = shifts_generate(
        team=team_a,
        members=members,
        weekdays=[5],  # Saturdays
        start_time=dt.time(20),
        end_time=dt.time(8),
        first_day=dt.date(2026, 3, 1),
        weeks=2,
    )
    # Saturdays 7 March (the night the clocks spring forward) and 14 March.
    assert [s.duration for s in spring.created] == [dt.timedelta(hours=11), dt.timedelta(hours=12)]
    assert [s.starts_at for s in spring.created] == [ny(2026, 3, 7, 20), ny(2026, 3, 14, 20)]
    fall = shifts_generate(
        team=team_a,
        members=members,
        weekdays=[5],
        start_time=dt.time(20),
        end_time=dt.time(8),
        first_day=dt.date(2026, 10, 26),
        weeks=1,
    )
    (night,) = fall.created
    assert night.starts_at == ny(2026, 10, 31, 20)
    assert night.duration == dt.timedelta(hours=13)


def test_generated_occurrences_that_conflict_are_reported_and_not_created(
    book: Callable[..., Any], team_a: Any, clinician_a: Any, officer_a: Any
) -> None:
    book(ny(2026, 6, 3, 12), ny(2026, 6, 3, 14))  # Wednesday of week 1
    result = shifts_generate(
        team=team_a,
        members=[MemberSpec(clinician_a, "clinician"), MemberSpec(officer_a, "officer")],
        weekdays=[0, 1, 2, 3, 4],
        start_time=dt.time(8),
        end_time=dt.time(18),
        first_day=dt.date(2026, 6, 1),
        weeks=1,
    )
    assert len(result.created) == 4
    assert len(result.conflicts) == 1
    assert "2026-06-03" in result.conflicts[0][0]
    assert Shift.objects.count() == 5


def test_a_24_hour_wall_clock_shift_over_fall_back_is_25_hours_and_refused(book: Callable[..., Any]) -> None:
    # Regression: the length was measured by wall clock when both ends shared the local tzinfo.
    errors = refused(lambda: book(ny(2026, 10, 31, 20), ny(2026, 11, 1, 20)))
    assert errors["ends_at"] == ["A shift cannot be longer than 24 hours."]
    assert Shift.objects.count() == 0


def test_shift_times_come_back_in_utc_from_the_service(book: Callable[..., Any]) -> None:
    shift = book(ny(2026, 10, 31, 20), ny(2026, 11, 1, 8))
    assert shift.starts_at.tzinfo == dt.UTC
    assert shift.duration == dt.timedelta(hours=13)


def test_the_database_holds_utc(book: Callable[..., Any]) -> None:
    from django.db import connection

    shift = book(ny(2026, 3, 7, 20), ny(2026, 3, 8, 8))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
                " to_char(ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM shifts_shift WHERE id = %s",
                [shift.pk],
            )
        else:
            cursor.execute(
                "SELECT substr(starts_at, 1, 16), substr(ends_at, 1, 16) FROM shifts_shift WHERE id = %s", [shift.pk]
            )
        assert cursor.fetchone() == ("2026-03-08 01:00", "2026-03-08 12:00")
