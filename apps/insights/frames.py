"""The data behind an answer: cells per (family, slice, month), from the rollup or computed live.

A *slice* is a set of filters (``Filters``): all data, one team, one call type, one source. Cells of
whole months come from the rollup (apps/insights/rollup.py) when the family keeps that slice's
dimension there and the month has been computed; otherwise the same cells are computed live from the
source tables (apps/insights/compute.py), per month. A custom range that does not start and end on
month boundaries is always live, its first and last months partial, and its distinct people counted
directly.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Q

from .compute import CALLS, ROLLUP_FILTERS, TEAM_FAMILIES, Cell, CellKey, Cells, Filters, compute_family, unique_people
from .models import RollupMonth, RollupRow
from .periods import local_midnight, month_key, next_month
from .render import slice_key


def _rename_people(cell: Cell) -> Cell:
    """A team's row keeps its people under ``pt:`` (same team); within the team's slice that is ``pa:``."""
    out = Cell(counts=dict(cell.counts), hist=cell.hist)
    for key in [k for k in out.counts if k.startswith("pt:")]:
        out.counts["pa:" + key[3:]] = out.counts.pop(key)
    return out


@dataclass
class CellFrame:
    data: dict[tuple[str, str], dict[dt.date, Cell]] = field(default_factory=lambda: defaultdict(dict))
    teams: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    people_override: dict[tuple[str, tuple[dt.date, ...]], int] = field(default_factory=dict)
    as_of: dict[str, str] = field(default_factory=dict)  # month → when its cells were computed ("live": now)
    _merged: dict[tuple[str, str, tuple[dt.date, ...]], Cell] = field(default_factory=dict)

    def put(self, family: str, filters: Filters, month: dt.date, cell: Cell) -> None:
        slot = self.data[(family, slice_key(filters))]
        if month in slot:
            slot[month].merge(cell)
        else:
            merged = Cell()
            merged.merge(cell)
            slot[month] = merged
        if filters.team is not None:
            self.teams[family].add(filters.team)

    def cell(self, family: str, filters: Filters, months: Sequence[dt.date]) -> Cell:
        key = (family, slice_key(filters), tuple(months))
        cached = self._merged.get(key)
        if cached is None:
            slot = self.data.get((family, key[1]), {})
            cached = Cell()
            for m in months:
                if m in slot:
                    cached.merge(slot[m])
            self._merged[key] = cached
        return cached

    def team_ids(self, family: str) -> list[int]:
        return sorted(self.teams.get(family, ()))

    def people(self, filters: Filters, months: Sequence[dt.date]) -> int:
        override = self.people_override.get((slice_key(filters), tuple(months)))
        if override is not None:
            return override
        first = month_key(months[0])
        slot = self.data.get(("outcomes", slice_key(filters)), {})
        total = 0
        for m in months:
            for key, n in slot.get(m, Cell()).counts.items():
                if key.startswith("pa:") and (key == "pa:-" or key[3:] < first):
                    total += n
        return total


def _slices_from_raw(
    frame: CellFrame, family: str, raw: Cells, slices: Iterable[Filters], *, team_rows: bool, partitions: bool
) -> None:
    """Derive the wanted slices of a family from its full-dimension cells (rollup rows or live)."""
    wanted = list(slices)
    for key, cell in raw.items():
        if key.is_total:
            if any(not s.names() for s in wanted):
                frame.put(family, Filters(), key.month, cell)
            continue
        if family == CALLS:
            if partitions:
                # Every call-type slice and every source slice (an analyst's ledger holds the whole partition).
                frame.put(CALLS, Filters(call_type=key.call_type or "none"), key.month, cell)
                frame.put(CALLS, Filters(source=key.source or "none"), key.month, cell)
                continue
            for s in wanted:
                if not (s.call_type or s.source):
                    continue
                if s.call_type and s.call_type != key.call_type:
                    continue
                if s.source and s.source != key.source:
                    continue
                frame.put(family, s, key.month, cell)
        elif team_rows or any(s.team == key.team for s in wanted):
            frame.put(family, Filters(team=key.team), key.month, _rename_people(cell))


def _load_rollup(
    family: str, months: list[dt.date], slices: list[Filters], *, team_rows: bool, partitions: bool
) -> Cells:
    totals = any(not s.names() for s in slices)
    cond = Q(is_total=True) if totals else Q(pk__in=[])
    if family == CALLS:
        if partitions:
            cond |= Q(is_total=False)
        else:
            for s in slices:
                if s.call_type or s.source:
                    row = Q(is_total=False)
                    if s.call_type:
                        row &= Q(call_type=s.call_type)
                    if s.source:
                        row &= Q(source=s.source)
                    cond |= row
    elif team_rows:
        cond |= Q(is_total=False)
    else:
        teams = {s.team for s in slices if s.team is not None}
        if teams:
            cond |= Q(is_total=False, team_id__in=teams)
    out: Cells = {}
    rows = RollupRow.objects.filter(cond, family=family, month__in=months).values_list(
        "month", "is_total", "team_id", "call_type", "source", "counts", "hist"
    )
    for month, is_total, team_id, call_type, source, counts, hist in rows.order_by():
        out[CellKey(month, is_total, team_id, call_type, source)] = Cell.from_json(counts, hist)
    return out


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return local_midnight(month), local_midnight(next_month(month))


def build_frame(
    *,
    months: list[dt.date],
    wants: dict[str, list[Filters]],
    team_breakdown: Iterable[str] = (),
    partial: tuple[dt.date, dt.date] | None = None,
    calls_partitions: bool = False,
) -> CellFrame:
    """The cells an answer needs. ``months``: the local months (first days) of the answer; ``wants``: the
    slices each family is read in; ``team_breakdown``: families whose every team is wanted too;
    ``partial``: [first day, day after) of a custom range that is not whole months (then all is live);
    ``calls_partitions``: every call-type and every source slice of the calls (an analyst's ledger)."""
    frame = CellFrame()
    team_breakdown = set(team_breakdown)
    now = dt.datetime.now(tz=dt.UTC).isoformat()
    if partial is not None:
        start, end = local_midnight(partial[0]), local_midnight(partial[1])
        for family, slices in wants.items():
            for s in slices:
                _live_slice(frame, family, s, start, end, family in team_breakdown)
        for s in wants.get("outcomes", []):
            _people_live(frame, s, months, partial)
        frame.as_of = {month_key(m): now for m in months}
        return frame

    computed = dict(RollupMonth.objects.filter(month__in=months).values_list("month", "computed_at"))
    stored = [m for m in months if m in computed]
    missing = [m for m in months if m not in computed]
    frame.as_of = {month_key(m): (computed[m].isoformat() if m in computed else now) for m in months}
    for family, slices in wants.items():
        team_rows = family in team_breakdown
        partitions = family == CALLS and calls_partitions
        in_rollup = [s for s in slices if s.names() <= ROLLUP_FILTERS[family]]
        elsewhere = [s for s in slices if s not in in_rollup]
        if in_rollup:
            options = {"team_rows": team_rows, "partitions": partitions}
            if stored:
                raw = _load_rollup(family, stored, in_rollup, **options)
                _slices_from_raw(frame, family, raw, in_rollup, **options)
            for m in missing:
                raw = compute_family(family, *month_bounds(m))
                _slices_from_raw(frame, family, raw, in_rollup, **options)
        if elsewhere and months:
            start, end = month_bounds(months[0])[0], month_bounds(months[-1])[1]
            for s in elsewhere:
                _live_slice(frame, family, s, start, end, team_rows)
    return frame


def _live_slice(
    frame: CellFrame, family: str, s: Filters, start: dt.datetime, end: dt.datetime, team_rows: bool
) -> None:
    raw = compute_family(family, start, end, s)
    for key, cell in raw.items():
        if key.is_total:
            frame.put(family, s, key.month, cell)
        elif family in TEAM_FAMILIES and team_rows and s.team is None:
            # Every team of the filtered data (a team filter's own total is already the team's slice).
            team_slice = Filters(team=key.team, call_type=s.call_type, source=s.source)
            frame.put(family, team_slice, key.month, _rename_people(cell))


def _people_live(frame: CellFrame, s: Filters, months: list[dt.date], partial: tuple[dt.date, dt.date]) -> None:
    first, end = partial
    frame.people_override[(slice_key(s), tuple(months))] = unique_people(local_midnight(first), local_midnight(end), s)
    for m in months:
        seg_start, seg_end = max(m, first), min(next_month(m), end)
        frame.people_override[(slice_key(s), (m,))] = unique_people(
            local_midnight(seg_start), local_midnight(seg_end), s
        )
