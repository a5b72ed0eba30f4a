"""Time helpers: the database holds UTC, people read America/New_York (settings.TIME_ZONE)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def to_local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, local_zone())


def local_range(start: dt.datetime, end: dt.datetime) -> str:
    a, b = to_local(start), to_local(end)
    if a.date() == b.date():
        return f"{a:%a %Y-%m-%d %H:%M}–{b:%H:%M} {b:%Z}"
    return f"{a:%a %Y-%m-%d %H:%M} – {b:%a %Y-%m-%d %H:%M} {b:%Z}"


def local_datetime(day: dt.date, at: dt.time) -> dt.datetime:
    """The aware moment a wall clock in the program's zone shows ``at`` on ``day``.

    In the spring-forward gap (02:30 does not exist) this lands after the gap; in the fall-back
    repeat it picks the first occurrence. Round-tripping through UTC normalises both.
    """
    naive = dt.datetime.combine(day, at)
    return naive.replace(tzinfo=local_zone()).astimezone(dt.UTC).astimezone(local_zone())


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[midnight, next midnight) of ``day`` in the program's zone (23 or 25 hours on DST days)."""
    return local_datetime(day, dt.time.min), local_datetime(day + dt.timedelta(days=1), dt.time.min)


def local_today() -> dt.date:
    return to_local(timezone.now()).date()
