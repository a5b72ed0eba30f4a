"""Aware datetimes in, UTC stored, America/New_York shown."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from rest_framework import serializers

from apps.core.fields import AwareDateTimeField
from apps.core.timefmt import local_datetime, local_day_bounds, local_range, to_local

NY = ZoneInfo("America/New_York")


class _Input(serializers.Serializer[dict[str, dt.datetime]]):
    at = AwareDateTimeField()


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2026-03-08T07:30:00Z", dt.datetime(2026, 3, 8, 7, 30, tzinfo=dt.UTC)),
        ("2026-03-08T02:30:00-05:00", dt.datetime(2026, 3, 8, 7, 30, tzinfo=dt.UTC)),
        ("2026-11-01T01:30:00-04:00", dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)),
        ("2026-11-01T01:30:00-05:00", dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC)),
    ],
)
def test_an_aware_datetime_is_accepted_as_the_instant_it_names(value: str, utc: dt.datetime) -> None:
    data = _Input(data={"at": value})
    assert data.is_valid(), data.errors
    assert data.validated_data["at"] == utc


@pytest.mark.parametrize("value", ["2026-03-08T02:30:00", "2026-03-08 07:30", "2026-03-08", "20260308T073000"])
def test_a_naive_datetime_is_refused_with_a_hint(value: str) -> None:
    data = _Input(data={"at": value})
    assert not data.is_valid()
    assert "timezone offset" in str(data.errors["at"][0])


def test_a_naive_python_datetime_is_refused() -> None:
    data = _Input(data={"at": dt.datetime(2026, 3, 8, 7, 30)})  # noqa: DTZ001 - the point of the test
    assert not data.is_valid()


def test_garbage_is_a_format_error() -> None:
    data = _Input(data={"at": "next tuesday"})
    assert not data.is_valid()
    assert "format" in str(data.errors["at"][0])


def test_a_wall_clock_time_in_the_spring_forward_gap_lands_after_the_gap() -> None:
    moment = local_datetime(dt.date(2026, 3, 8), dt.time(2, 30))
    assert moment.astimezone(dt.UTC) == dt.datetime(2026, 3, 8, 7, 30, tzinfo=dt.UTC)
    assert (moment.hour, moment.minute) == (3, 30)


def test_a_repeated_wall_clock_time_at_fall_back_is_the_first_one() -> None:
    moment = local_datetime(dt.date(2026, 11, 1), dt.time(1, 30))
    assert moment.astimezone(dt.UTC) == dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.date(2026, 3, 8), 23), (dt.date(2026, 11, 1), 25), (dt.date(2026, 6, 1), 24)],
)
def test_a_local_day_lasts_23_24_or_25_hours(day: dt.date, hours: int) -> None:
    start, end = local_day_bounds(day)
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=hours)
    assert to_local(start).time() == dt.time(0) == to_local(end).time()


def test_a_range_is_shown_in_local_time() -> None:
    start = dt.datetime(2026, 3, 8, 1, tzinfo=dt.UTC)
    end = dt.datetime(2026, 3, 8, 12, tzinfo=dt.UTC)
    assert local_range(start, end) == "Sat 2026-03-07 20:00 – Sun 2026-03-08 08:00 EDT"
    assert local_range(end, end + dt.timedelta(hours=2)) == "Sun 2026-03-08 08:00–10:00 EDT"


def test_accepted_datetimes_come_back_in_utc() -> None:
    data = _Input(data={"at": "2026-11-01T01:30:00-05:00"})
    assert data.is_valid()
    assert data.validated_data["at"].tzinfo == dt.UTC
