"""Turn merged cells into the answer of each measure, recording every count in a ledger.

A rendered answer holds ``Num`` placeholders (a count with a ledger id) and ``Derived`` values (a rate, a
percentile: shown only when the counts they rest on are shown). The ledger also records the identities
between counts (a breakdown's total is the sum of its rows; a share's denominator is its numerator plus
the rest; a period is the sum of its months; all teams are the sum of the teams), which is what
complementary suppression needs (apps/insights/privacy.py). ``finalize`` swaps placeholders for values.

Ledger ids name a quantity, not a place in the answer: ``family:key|slice|period`` (e.g.
``calls:elig:yes|all|FY2025-Q2``), so the same count shown by two measures is one cell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import bins
from .catalogue import BREAKDOWN, COUNT, DISTINCT, LIVE, PERCENTILES, SHARE, SHARES, Measure
from .compute import ROLLUP_FILTERS, TEAM_FAMILIES, Cell, Filters
from .labels import Category
from .periods import month_key


@dataclass(frozen=True)
class Num:
    id: str
    value: int


@dataclass(frozen=True)
class Derived:
    value: Any
    deps: tuple[str, ...]


@dataclass
class Ledger:
    values: dict[str, int] = field(default_factory=dict)
    groups: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    non_additive: set[str] = field(default_factory=set)
    _group_keys: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)

    def num(self, id: str, value: int, *, additive: bool = True) -> Num:
        self.values[id] = int(value)
        if not additive:
            self.non_additive.add(id)
        return Num(id, int(value))

    def group(self, total: Num | str, parts: Iterable[Num | str]) -> None:
        t = total.id if isinstance(total, Num) else total
        ps = tuple(p.id if isinstance(p, Num) else p for p in parts)
        if not ps or (len(ps) == 1 and ps[0] == t):
            return
        key = (t, ps)
        if key not in self._group_keys:
            self._group_keys.add(key)
            self.groups.append(key)


def slice_key(filters: Filters) -> str:
    parts = []
    if filters.team is not None:
        parts.append(f"team={filters.team}")
    if filters.call_type:
        parts.append(f"ct={filters.call_type}")
    if filters.source:
        parts.append(f"src={filters.source}")
    return ",".join(parts) or "all"


class Frame(Protocol):
    """Merged cells of the answer's data (apps/insights/frames.py)."""

    def cell(self, family: str, filters: Filters, months: Sequence[dt.date]) -> Cell: ...

    def team_ids(self, family: str) -> list[int]: ...

    def people(self, filters: Filters, months: Sequence[dt.date]) -> int: ...


@dataclass
class Scope:
    """One period of an answer: its ledger name and its (local) months."""

    key: str
    months: tuple[dt.date, ...]


@dataclass
class Renderer:
    frame: Frame
    ledger: Ledger
    labels: dict[str, list[Category]]
    teams: dict[int, str]
    live: dict[str, int] = field(default_factory=dict)
    # Suppressed answers apply a filter only where the rollup keeps its dimension: the fiscal year's
    # suppression ledger holds exactly those slices (apps/insights/selectors.py).
    rollup_filters_only: bool = False

    # --- counts ------------------------------------------------------------------------------------

    def _cell(self, family: str, filters: Filters, scope: Scope) -> Cell:
        return self.frame.cell(family, filters, scope.months)

    def count(self, family: str, keys: Sequence[str], filters: Filters, scope: Scope) -> Num:
        """A count (or the sum of several keys, which is then a group of its parts)."""
        cell = self._cell(family, filters, scope)
        base = f"|{slice_key(filters)}|{scope.key}"
        if len(keys) == 1:
            return self.ledger.num(f"{family}:{keys[0]}{base}", cell.counts.get(keys[0], 0))
        parts = [self.ledger.num(f"{family}:{k}{base}", cell.counts.get(k, 0)) for k in keys]
        total = self.ledger.num(f"{family}:{'+'.join(keys)}{base}", sum(p.value for p in parts))
        self.ledger.group(total, parts)
        return total

    def months_of(self, scope: Scope) -> list[Scope]:
        return [Scope(month_key(m), (m,)) for m in scope.months]

    # --- kinds ------------------------------------------------------------------------------------

    def render(self, measure: Measure, filters: Filters, scope: Scope) -> dict[str, Any]:
        names = set(measure.filters)
        if self.rollup_filters_only and measure.kind != LIVE:
            names &= ROLLUP_FILTERS[measure.family]
        f = filters.only(names)
        kind = measure.kind
        handler: Callable[[Measure, Filters, Scope], dict[str, Any]] = {
            COUNT: self._count,
            BREAKDOWN: self._breakdown,
            SHARE: self._share,
            SHARES: self._shares,
            PERCENTILES: self._percentiles,
            DISTINCT: self._distinct,
            LIVE: self._live,
        }[kind]
        out = handler(measure, f, scope)
        not_applied = sorted(filters.names() - f.names())
        if not_applied:
            out["filters_not_applied"] = not_applied
        return out

    def _count(self, m: Measure, f: Filters, scope: Scope) -> dict[str, Any]:
        key = [m.spec["key"]]
        value = self.count(m.family, key, f, scope)
        by_month = [self.count(m.family, key, f, s) for s in self.months_of(scope)]
        self.ledger.group(value, by_month)
        return {
            "value": value,
            "by_month": [{"month": s.key, "value": v} for s, v in zip(self.months_of(scope), by_month, strict=True)],
        }

    def _breakdown(self, m: Measure, f: Filters, scope: Scope) -> dict[str, Any]:
        family, prefix = m.family, m.spec["prefix"]
        cell = self._cell(family, f, scope)
        total = self.count(family, [m.spec["total"]], f, scope)
        categories = list(self.labels.get(m.spec["labels"], []))
        known = {c.key for c in categories}
        for key in sorted(k.removeprefix(prefix) for k in cell.counts if k.startswith(prefix)):
            if key not in known:
                categories.append(Category(key, key))
        rows = []
        nums = []
        hours_prefix = m.spec.get("hours_prefix")
        for category in categories:
            num = self.count(family, [prefix + category.key], f, scope)
            nums.append(num)
            row: dict[str, Any] = {"key": category.key, "label": category.label, "value": num}
            row.update(dict(category.extra))
            if hours_prefix:
                tenths = cell.counts.get(hours_prefix + category.key, 0)
                row["hours"] = Derived(tenths / 10, (num.id,))
            rows.append(row)
        self.ledger.group(total, nums)
        return {"total": total, "rows": rows}

    def _ratio(self, family: str, num_keys: Sequence[str], den_keys: Sequence[str], f: Filters, scope: Scope,
               complement: str | None = None) -> dict[str, Any]:  # fmt: skip
        num = self.count(family, num_keys, f, scope)
        den = self.count(family, den_keys, f, scope)
        if complement:
            rest = self.count(family, [complement], f, scope)
        else:
            rest_id = f"{family}:({'+'.join(den_keys)})-({'+'.join(num_keys)})|{slice_key(f)}|{scope.key}"
            rest = self.ledger.num(rest_id, den.value - num.value)
        self.ledger.group(den, [num, rest])
        rate = round(num.value / den.value, 4) if den.value else None
        return {"numerator": num, "denominator": den, "rate": Derived(rate, (num.id, den.id))}

    def _share(self, m: Measure, f: Filters, scope: Scope) -> dict[str, Any]:
        spec = m.spec
        out = self._ratio(m.family, [spec["num"]], [spec["den"]], f, scope, spec.get("complement"))
        months = []
        for s in self.months_of(scope):
            months.append(
                {"month": s.key, **self._ratio(m.family, [spec["num"]], [spec["den"]], f, s, spec.get("complement"))}
            )
        # The period's counts are the sums of its months'.
        self.ledger.group(out["numerator"], [r["numerator"] for r in months])
        self.ledger.group(out["denominator"], [r["denominator"] for r in months])
        out["by_month"] = months
        return out

    def _shares(self, m: Measure, f: Filters, scope: Scope) -> dict[str, Any]:
        rows = []
        for key, label, num_keys, den_keys in m.spec["rows"]:
            rows.append({"key": key, "label": label, **self._ratio(m.family, num_keys, den_keys, f, scope)})
        return {"rows": rows}

    def _pct(self, hist: dict[int, int], n: Num) -> dict[str, Any]:
        return {
            "n": n,
            "p50": Derived(bins.percentile(hist, 0.5), (n.id,)),
            "p90": Derived(bins.percentile(hist, 0.9), (n.id,)),
        }

    def _hist_num(self, family: str, measure: str, f: Filters, scope: Scope) -> tuple[dict[int, int], Num]:
        hist = self._cell(family, f, scope).hist.get(measure, {})
        n = self.ledger.num(f"{family}:n:{measure}|{slice_key(f)}|{scope.key}", bins.observations(hist))
        return hist, n

    def _percentiles(self, m: Measure, f: Filters, scope: Scope) -> dict[str, Any]:
        family, measure = m.family, m.spec["hist"]
        hist, n = self._hist_num(family, measure, f, scope)
        out: dict[str, Any] = {"overall": self._pct(hist, n)}
        months = self.months_of(scope)
        month_n: list[Num] = []
        by_month = []
        for s in months:
            h, mn = self._hist_num(family, measure, f, s)
            month_n.append(mn)
            by_month.append({"month": s.key, **self._pct(h, mn)})
        self.ledger.group(n, month_n)
        out["by_month"] = by_month
        if family in TEAM_FAMILIES:
            team_ids = [f.team] if f.team is not None else self.frame.team_ids(family)
            by_team, by_team_month = [], []
            team_n: list[Num] = []
            cross: dict[str, list[Num]] = {s.key: [] for s in months}
            for team_id in team_ids:
                tf = Filters(team=team_id, call_type=f.call_type, source=f.source)
                h, tn = self._hist_num(family, measure, tf, scope)
                team_n.append(tn)
                label = self.teams.get(team_id, "no team" if team_id == 0 else f"team {team_id}")
                by_team.append({"team_id": team_id, "team": label, **self._pct(h, tn)})
                per_month = []
                for s in months:
                    hm, tmn = self._hist_num(family, measure, tf, s)
                    per_month.append(tmn)
                    cross[s.key].append(tmn)
                    by_team_month.append({"team_id": team_id, "team": label, "month": s.key, **self._pct(hm, tmn)})
                self.ledger.group(tn, per_month)
            if f.team is None:
                self.ledger.group(n, team_n)
                for s, mn in zip(months, month_n, strict=True):
                    self.ledger.group(mn, cross[s.key])
            out["by_team"] = by_team
            out["by_team_month"] = by_team_month
        return out

    def _distinct(self, m: Measure, f: Filters, scope: Scope) -> dict[str, Any]:
        if m.spec["distinct"] == "people":

            def people(s: Scope) -> Num:
                value = self.frame.people(f, s.months)
                return self.ledger.num(f"people|{slice_key(f)}|{s.key}", value, additive=False)

            months = self.months_of(scope)
            return {
                "value": people(scope),
                "encounters": self.count(m.family, [m.spec["encounters"]], f, scope),
                "by_month": [{"month": s.key, "value": people(s)} for s in months],
            }
        # Officers: per-officer shift counts merged over the period.
        cell = self._cell(m.family, f, scope)
        officers = [k[2:] for k, shifts in cell.counts.items() if k.startswith("o:") and shifts > 0]
        trained = sum(1 for uid in officers if cell.counts.get(f"u:{uid}", 0) == 0)
        base = f"|{slice_key(f)}|{scope.key}"
        num = self.ledger.num(f"officers_cit{base}", trained, additive=False)
        den = self.ledger.num(f"officers{base}", len(officers), additive=False)
        rest = self.ledger.num(f"officers_not_cit{base}", len(officers) - trained, additive=False)
        self.ledger.group(den, [num, rest])
        rate = round(trained / len(officers), 4) if officers else None
        return {"numerator": num, "denominator": den, "rate": Derived(rate, (num.id, den.id))}

    def _live(self, m: Measure, f: Filters, scope: Scope) -> dict[str, Any]:
        value = self.live.get(m.id, 0)
        return {"value": self.ledger.num(f"live:{m.id}|{slice_key(f)}", value, additive=False)}


SMALL = "<11"  # a count from 1 to 10
HIDDEN = "*"  # a count hidden so that a total does not give a small one away (complementary)


def finalize(obj: Any, suppressed: set[str] | frozenset[str] = frozenset()) -> Any:
    """The answer with placeholders replaced: a small count reads "<11", a count hidden to protect one
    reads "*", a value resting on a hidden count (rate, percentile, hours) reads null."""
    if isinstance(obj, Num):
        if obj.id not in suppressed:
            return obj.value
        return SMALL if 1 <= obj.value <= 10 else HIDDEN
    if isinstance(obj, Derived):
        return None if any(d in suppressed for d in obj.deps) else obj.value
    if isinstance(obj, dict):
        return {k: finalize(v, suppressed) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finalize(v, suppressed) for v in obj]
    return obj
