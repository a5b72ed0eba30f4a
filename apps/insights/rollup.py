"""The monthly rollup: the cells of every family for one local month, stored so dashboards read a few
thousand small rows instead of scanning a year of incidents.

It is a cache of ``compute_family`` (apps/insights/compute.py) per month, replaced whole: a refresh
computes a month's cells from the source tables and swaps its rows in one transaction (readers see the
old rows or the new, never half). Nothing in the other apps writes here and none of their services
changed: the rollup is kept current by refreshing, not by hooks in their writes (docs/insights.md
"Aggregation"):

- every ``INSIGHTS_ROLLUP_REFRESH_SECONDS`` (Celery beat): the months that can still change quickly
  (the last ``INSIGHTS_ROLLUP_RECENT_DAYS`` and next month, whose follow-ups are already scheduled);
- nightly: every month that has data (late corrections to old records);
- before a quarter is frozen: its three months (a report never rests on stale cells);
- ``manage.py insights_refresh`` by hand, e.g. after a bulk import.

Two refreshes of one month serialize on the ``RollupMonth`` row; the one whose computation started
later wins, so a slow refresh never overwrites a newer one with older data.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from apps.clinical.models import Encounter
from apps.incidents.models import Incident
from apps.referrals.models import FollowUp
from apps.shifts.models import Shift

from .compute import FAMILIES, Cell, CellKey, compute_family
from .frames import month_bounds
from .models import RollupMonth, RollupRow
from .periods import month_key, month_start, next_month

log = logging.getLogger(__name__)


def month_cells(month: dt.date) -> dict[str, dict[CellKey, Cell]]:
    start, end = month_bounds(month)
    return {family: compute_family(family, start, end) for family in FAMILIES}


def rollup_refresh_month(month: dt.date) -> RollupMonth:
    """Recompute one local month from the source tables and replace its rows."""
    month = month_start(month)
    started = timezone.now()
    t0 = time.perf_counter()
    cells = month_cells(month)
    rows = [
        RollupRow(
            month=month,
            family=family,
            is_total=key.is_total,
            team_id=key.team,
            call_type=key.call_type,
            source=key.source,
            counts=cell.as_json()[0],
            hist=cell.as_json()[1],
        )
        for family, family_cells in cells.items()
        for key, cell in family_cells.items()
        if key.month == month
    ]
    seconds = time.perf_counter() - t0
    with transaction.atomic():
        record, _ = RollupMonth.objects.get_or_create(
            month=month, defaults={"computed_at": started, "seconds": seconds, "rows": 0}
        )
        record = RollupMonth.objects.select_for_update().get(pk=record.pk)
        if record.computed_at > started:
            return record  # a refresh that started later already stored newer cells
        RollupRow.objects.filter(month=month).delete()
        RollupRow.objects.bulk_create(rows, batch_size=2000)
        RollupMonth.objects.filter(pk=record.pk).update(computed_at=started, seconds=seconds, rows=len(rows))
    record.refresh_from_db()
    log.info("insights rollup %s: %d rows in %.1f s", month_key(month), len(rows), seconds)
    return record


def rollup_refresh(months: Iterable[dt.date]) -> list[RollupMonth]:
    return [rollup_refresh_month(m) for m in sorted({month_start(m) for m in months})]


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    out, m = [], month_start(first)
    while m <= last:
        out.append(m)
        m = next_month(m)
    return out


def recent_months(now: dt.datetime | None = None) -> list[dt.date]:
    """The months still changing: from ``INSIGHTS_ROLLUP_RECENT_DAYS`` ago to next month."""
    now = timezone.localtime(now or timezone.now())
    days = int(getattr(settings, "INSIGHTS_ROLLUP_RECENT_DAYS", 62))
    return months_between((now - dt.timedelta(days=days)).date(), next_month(now.date()))


def months_with_data(now: dt.datetime | None = None) -> list[dt.date]:
    """Every month from the first call, encounter, follow-up or shift to next month. (Training records
    reach back years before the program; a month with nothing else is computed live when asked: cheap.)"""
    firsts = [
        Incident.objects.aggregate(m=Min("received_at"))["m"],
        Encounter.objects.aggregate(m=Min("started_at"))["m"],
        FollowUp.objects.aggregate(m=Min("due_at"))["m"],
        Shift.objects.aggregate(m=Min("starts_at"))["m"],
    ]
    candidates = [timezone.localtime(f).date() for f in firsts if f is not None]
    if not candidates:
        return []
    now = timezone.localtime(now or timezone.now())
    return months_between(min(candidates), next_month(now.date()))


def rollup_mismatches(months: Iterable[dt.date]) -> list[str]:
    """Differences between the stored rows and a fresh computation (expected: none)."""
    problems: list[str] = []
    for month in sorted({month_start(m) for m in months}):
        fresh = month_cells(month)
        stored: dict[tuple[str, CellKey], Cell] = {}
        for row in RollupRow.objects.filter(month=month):
            key = CellKey(row.month, row.is_total, row.team_id, row.call_type, row.source)
            stored[(row.family, key)] = Cell.from_json(row.counts, row.hist)
        if not RollupMonth.objects.filter(month=month).exists():
            problems.append(f"{month_key(month)}: not in the rollup")
            continue
        expected = {(f, k): c for f, cells in fresh.items() for k, c in cells.items() if k.month == month}
        for family_key in sorted(set(stored) | set(expected), key=str):
            a, b = stored.get(family_key), expected.get(family_key)
            where = f"{month_key(month)} {family_key[0]} {tuple(family_key[1])[1:]}"
            if a is None or b is None:
                problems.append(f"{where}: row {'missing' if a is None else 'extra'}")
            elif a.counts != b.counts or a.hist != b.hist:
                problems.append(f"{where}: values differ")
    return problems
