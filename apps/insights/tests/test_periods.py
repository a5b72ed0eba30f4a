"""Periods: months, federal quarters (Oct–Dec is Q1), fiscal years, custom ranges, local midnights."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.core.errors import Invalid
from apps.insights.periods import (
    Period,
    current_periods,
    fiscal_quarter_of,
    fiscal_year_hierarchy,
    fiscal_year_of,
    parse_period,
)


@pytest.mark.parametrize(
    ("day", "fy", "q"),
    [
        (dt.date(2024, 9, 30), 2024, 4),
        (dt.date(2024, 10, 1), 2025, 1),
        (dt.date(2024, 12, 31), 2025, 1),
        (dt.date(2025, 1, 1), 2025, 2),
        (dt.date(2025, 3, 31), 2025, 2),
        (dt.date(2025, 4, 1), 2025, 3),
        (dt.date(2025, 6, 30), 2025, 3),
        (dt.date(2025, 7, 1), 2025, 4),
        (dt.date(2025, 9, 30), 2025, 4),
    ],
)
def test_federal_fiscal_year_and_quarter_of_a_day(day: dt.date, fy: int, q: int) -> None:
    assert (fiscal_year_of(day), fiscal_quarter_of(day)) == (fy, q)


def test_quarters_start_in_october() -> None:
    assert Period.quarter(2025, 1) == Period(dt.date(2024, 10, 1), dt.date(2025, 1, 1), "quarter")
    assert Period.quarter(2025, 2) == Period(dt.date(2025, 1, 1), dt.date(2025, 4, 1), "quarter")
    assert Period.quarter(2025, 4) == Period(dt.date(2025, 7, 1), dt.date(2025, 10, 1), "quarter")
    assert Period.fiscal_year(2025) == Period(dt.date(2024, 10, 1), dt.date(2025, 10, 1), "fy")
    assert Period.quarter(2025, 1).label == "FY2025 Q1 (Oct–Dec 2024)"
    assert Period.quarter(2025, 2).label == "FY2025 Q2 (Jan–Mar 2025)"


def test_parse_every_kind_and_round_trip_the_key() -> None:
    for key in ("2025-03", "FY2025-Q2", "FY2025", "2025-01-15..2025-02-14"):
        assert parse_period(key).key == key
    assert parse_period("fy2025-q1") == Period.quarter(2025, 1)
    custom = parse_period("2025-01-15..2025-02-14")
    assert (custom.start, custom.end, custom.days) == (dt.date(2025, 1, 15), dt.date(2025, 2, 15), 31)
    assert not custom.is_month_aligned
    assert parse_period("2025-01-01..2025-03-31").is_month_aligned


@pytest.mark.parametrize(
    "bad", ["", "2025-13", "2025-00", "FY2025-Q5", "Q1", "2025-02-30..2025-03-01", "2025-03-01..2025-02-01",
            "2020-01-01..2025-01-01", "1999-01-01..1999-02-01"],
)  # fmt: skip
def test_a_bad_period_is_a_400_on_the_period_field(bad: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_period(bad)
    assert "period" in err.value.errors


def test_bounds_are_local_midnights_across_dst() -> None:
    # March 2025 has the spring-forward night (743 hours), November 2024 the fall-back night (721 hours).
    for period, hours in ((Period.month(2025, 3), 743), (Period.month(2024, 11), 721), (Period.month(2025, 1), 744)):
        start, end = period.bounds()
        assert (start.hour, end.hour) == (0, 0)
        # In UTC: two datetimes sharing a tzinfo subtract by wall clock.
        assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=hours)
    start, _ = Period.month(2025, 1).bounds()
    assert start.astimezone(dt.UTC) == dt.datetime(2025, 1, 1, 5, tzinfo=dt.UTC)  # EST
    start, _ = Period.month(2025, 7).bounds()
    assert start.astimezone(dt.UTC) == dt.datetime(2025, 7, 1, 4, tzinfo=dt.UTC)  # EDT


def test_a_fiscal_year_has_seventeen_periods_in_order() -> None:
    periods = fiscal_year_hierarchy(2025)
    assert [p.key for p in periods[:5]] == ["FY2025", "FY2025-Q1", "FY2025-Q2", "FY2025-Q3", "FY2025-Q4"]
    months = [(2024, 10), (2024, 11), (2024, 12)] + [(2025, m) for m in range(1, 10)]
    assert [p.key for p in periods[5:]] == [f"{y}-{m:02d}" for y, m in months]
    assert all(p.fiscal_year_number == 2025 for p in periods)
    assert parse_period("2024-09-15..2024-10-15").fiscal_year_number is None


def test_current_periods_around_a_quarter_edge() -> None:
    now = current_periods(dt.date(2025, 1, 2))
    assert now["quarter"].key == "FY2025-Q2"
    assert now["last_quarter"].key == "FY2025-Q1"
    assert now["fiscal_year"].key == "FY2025"
    assert current_periods(dt.date(2024, 10, 1))["last_quarter"].key == "FY2024-Q4"
