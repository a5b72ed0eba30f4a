"""Reporting periods: calendar month, federal fiscal-year quarter, fiscal year, custom range.

A period is a run of whole local days in the program's zone (America/New_York, settings.TIME_ZONE):
``[start, end)`` as dates, and ``[local midnight of start, local midnight of end)`` as UTC instants for
queries. A day is 23 or 25 hours on DST change days, so bounds are made per day, never by adding hours.

The federal fiscal year N runs from 1 October N-1 to 30 September N: Q1 = Oct–Dec, Q2 = Jan–Mar,
Q3 = Apr–Jun, Q4 = Jul–Sep (BJA grantees report by these quarters).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from apps.core.errors import Invalid
from apps.core.timefmt import local_datetime, local_today

MONTH = "month"
QUARTER = "quarter"
FISCAL_YEAR = "fy"
CUSTOM = "custom"
KINDS = (MONTH, QUARTER, FISCAL_YEAR, CUSTOM)

# A custom range longer than this is refused (three fiscal years is more than any report asks for).
MAX_CUSTOM_DAYS = 1100
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_RE = re.compile(r"^FY(\d{4})-Q([1-4])$", re.IGNORECASE)
_FY_RE = re.compile(r"^FY(\d{4})$", re.IGNORECASE)
_CUSTOM_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def fiscal_year_of(day: dt.date) -> int:
    return day.year + 1 if day.month >= 10 else day.year


def fiscal_quarter_of(day: dt.date) -> int:
    return (day.month - 10) % 12 // 3 + 1


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def local_midnight(day: dt.date) -> dt.datetime:
    """The aware instant of local midnight starting ``day`` (never in a DST gap: US changes at 02:00)."""
    return local_datetime(day, dt.time.min)


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date  # first local day
    end: dt.date  # first local day after the period
    kind: str = CUSTOM

    # --- constructors ---------------------------------------------------------------------------

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = dt.date(year, month, 1)
        return cls(first, next_month(first), MONTH)

    @classmethod
    def quarter(cls, fiscal_year: int, quarter: int) -> Period:
        if quarter not in (1, 2, 3, 4):
            raise ValueError("quarter is 1-4")
        first_month = 10 + 3 * (quarter - 1)
        year = fiscal_year - 1
        if first_month > 12:
            first_month -= 12
            year = fiscal_year
        first = dt.date(year, first_month, 1)
        return cls(first, next_month(next_month(next_month(first))), QUARTER)

    @classmethod
    def fiscal_year(cls, fiscal_year: int) -> Period:
        return cls(dt.date(fiscal_year - 1, 10, 1), dt.date(fiscal_year, 10, 1), FISCAL_YEAR)

    @classmethod
    def custom(cls, first_day: dt.date, last_day: dt.date) -> Period:
        """``first_day`` to ``last_day`` inclusive (as people say a range)."""
        return cls(first_day, last_day + dt.timedelta(days=1), CUSTOM)

    # --- what it is -----------------------------------------------------------------------------

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def key(self) -> str:
        if self.kind == MONTH:
            return month_key(self.start)
        if self.kind == QUARTER:
            return f"FY{fiscal_year_of(self.start)}-Q{fiscal_quarter_of(self.start)}"
        if self.kind == FISCAL_YEAR:
            return f"FY{fiscal_year_of(self.start)}"
        return f"{self.start.isoformat()}..{self.last_day.isoformat()}"

    @property
    def label(self) -> str:
        first, last = self.start, self.last_day
        if self.kind == MONTH:
            return f"{MONTH_NAMES[first.month - 1]} {first.year}"
        if self.kind == QUARTER:
            span = f"{MONTH_NAMES[first.month - 1]}–{MONTH_NAMES[last.month - 1]} {last.year}"
            if first.year != last.year:
                span = f"{MONTH_NAMES[first.month - 1]} {first.year}–{MONTH_NAMES[last.month - 1]} {last.year}"
            return f"FY{fiscal_year_of(first)} Q{fiscal_quarter_of(first)} ({span})"
        if self.kind == FISCAL_YEAR:
            return f"FY{fiscal_year_of(first)} (Oct {first.year}–Sep {last.year})"
        return f"{first.isoformat()} to {last.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def is_month_aligned(self) -> bool:
        return self.start.day == 1 and self.end.day == 1

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as aware instants (local midnights), for ``received_at__gte/__lt`` filters."""
        return local_midnight(self.start), local_midnight(self.end)

    def months(self) -> list[dt.date]:
        """First days of the calendar months the period touches, in order."""
        out: list[dt.date] = []
        m = month_start(self.start)
        while m < self.end:
            out.append(m)
            m = next_month(m)
        return out

    def month_periods(self) -> list[Period]:
        return [Period.month(m.year, m.month) for m in self.months()]

    @property
    def fiscal_year_number(self) -> int | None:
        """The fiscal year this period lies in, if it lies in one (every month, quarter and FY does)."""
        fy = fiscal_year_of(self.start)
        return fy if fiscal_year_of(self.last_day) == fy else None

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "kind": self.kind,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.last_day.isoformat(),  # inclusive, as people read it
            "months": [month_key(m) for m in self.months()],
        }


def fiscal_year_hierarchy(fiscal_year: int) -> list[Period]:
    """The fiscal year, its four quarters and its twelve months (the periods an analyst may see of it)."""
    fy = Period.fiscal_year(fiscal_year)
    return [fy, *(Period.quarter(fiscal_year, q) for q in (1, 2, 3, 4)), *fy.month_periods()]


def parse_period(key: str) -> Period:
    """``2025-03`` (month), ``FY2025-Q2`` (federal quarter), ``FY2025`` (fiscal year) or
    ``2025-01-15..2025-02-14`` (custom, both days included). Invalid → 400 with the field ``period``."""
    text = (key or "").strip()
    try:
        if m := _MONTH_RE.match(text):
            year, month = int(m.group(1)), int(m.group(2))
            if not 1 <= month <= 12:
                raise ValueError
            return Period.month(year, month)
        if m := _QUARTER_RE.match(text):
            return Period.quarter(int(m.group(1)), int(m.group(2)))
        if m := _FY_RE.match(text):
            return Period.fiscal_year(int(m.group(1)))
        if m := _CUSTOM_RE.match(text):
            return custom_period(dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2)))
    except ValueError:
        pass
    raise Invalid(
        "Unknown period.",
        errors={"period": ["Use YYYY-MM, FYyyyy-Qn (Oct–Dec is Q1), FYyyyy, or YYYY-MM-DD..YYYY-MM-DD."]},
    )


def custom_period(first_day: dt.date, last_day: dt.date) -> Period:
    if not (dt.date(2000, 1, 1) <= first_day and last_day <= dt.date(2100, 1, 1)):
        raise Invalid("Unknown period.", errors={"period": ["Dates must be between 2000 and 2100."]})
    if last_day < first_day:
        raise Invalid("Unknown period.", errors={"period": ["The range ends before it starts."]})
    if (last_day - first_day).days + 1 > MAX_CUSTOM_DAYS:
        raise Invalid("Unknown period.", errors={"period": [f"A custom range is at most {MAX_CUSTOM_DAYS} days."]})
    return Period.custom(first_day, last_day)


def current_periods(today: dt.date | None = None) -> dict[str, Period]:
    """The periods a screen opens on: this month, this quarter, this fiscal year, and the last full quarter."""
    today = today or local_today()
    fy, q = fiscal_year_of(today), fiscal_quarter_of(today)
    last_fy, last_q = (fy, q - 1) if q > 1 else (fy - 1, 4)
    return {
        "month": Period.month(today.year, today.month),
        "quarter": Period.quarter(fy, q),
        "last_quarter": Period.quarter(last_fy, last_q),
        "fiscal_year": Period.fiscal_year(fy),
    }
