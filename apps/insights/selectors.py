"""Reads of program insight, with the role rules built in (DOMAIN.md §2, issue 13):

- analysts: aggregates only, small cells suppressed (apps/insights/privacy.py); months, federal quarters
  and fiscal years; one filter at a time, by call type or source;
- supervisors: the same unsuppressed, any period and filter, plus drill-down to incident lists (dispatch
  fields) and the live operations panel;
- clinical supervisors: all that, plus the clinical measures and drill-down to encounters under the
  clinical access rules (each encounter listed is written to the clinical access log).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from collections import defaultdict
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.errors import Invalid, NotFound
from apps.referrals.models import FollowUp

from .catalogue import CATALOGUE_VERSION, LIVE, MEASURES, Measure, measures_for
from .compute import CALLS, RESPONSE, ROLLUP_FILTERS, Filters
from .frames import CellFrame, build_frame
from .labels import label_sets, team_labels
from .models import RollupMonth
from .periods import CUSTOM, Period, fiscal_year_hierarchy
from .privacy import PRIMARY_MAX, suppress
from .render import Ledger, Renderer, Scope, finalize, slice_key

INSIGHT_ROLES = frozenset({Role.ANALYST, Role.SUPERVISOR, Role.CLINICAL_SUPERVISOR})
# Roles that see counts as they are (they may open the records behind them anyway).
UNSUPPRESSED_ROLES = frozenset({Role.SUPERVISOR, Role.CLINICAL_SUPERVISOR})
CLINICAL_ROLES = frozenset({Role.CLINICAL_SUPERVISOR})
INCIDENT_DRILL_ROLES = frozenset({Role.SUPERVISOR, Role.CLINICAL_SUPERVISOR})
ENCOUNTER_DRILL_ROLES = frozenset({Role.CLINICAL_SUPERVISOR})
LIVE_ROLES = frozenset({Role.SUPERVISOR, Role.CLINICAL_SUPERVISOR})
REPORT_ROLES = INSIGHT_ROLES

# Families whose answer lists every team (response times by team and month).
TEAM_BREAKDOWN = (RESPONSE,)
FY_CACHE_SECONDS = 24 * 3600


def sees_suppressed(user: User) -> bool:
    return not user.has_role(*UNSUPPRESSED_ROLES)


def sees_clinical(user: User) -> bool:
    return user.has_role(*CLINICAL_ROLES)


def check_suppressed_request(period: Period, filters: Filters) -> None:
    """What a suppressed answer may ask for: protection holds across months, quarters and fiscal years
    and across the values of one dimension, not across arbitrary days or crossed filters."""
    if period.kind == CUSTOM or period.fiscal_year_number is None:
        raise Invalid(
            "Custom ranges are not available with small-cell protection.",
            errors={"period": ["Choose a month, a federal quarter or a fiscal year."]},
        )
    if filters.team is not None:
        raise Invalid(
            "Team filters are not available with small-cell protection.",
            errors={"team": ["Response times by team are in the answer; filter by call type or source instead."]},
        )
    if len(filters.names()) > 1:
        raise Invalid(
            "One filter at a time with small-cell protection.",
            errors={"call_type": ["Filter by call type or by source, not both."]},
        )


def _wants(measures: tuple[Measure, ...], filters: Filters, *, rollup_only: bool) -> dict[str, list[Filters]]:
    wants: dict[str, list[Filters]] = defaultdict(list)
    for m in measures:
        if m.kind == LIVE:
            continue
        names = set(m.filters) & (ROLLUP_FILTERS[m.family] if rollup_only else set(m.filters))
        f = filters.only(names)
        if f not in wants[m.family]:
            wants[m.family].append(f)
    return dict(wants)


def live_values(filters: Filters, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    overdue = FollowUp.objects.open().filter(due_at__lt=now)
    if filters.team is not None:
        overdue = overdue.filter(encounter__team_id=filters.team)
    return {"followup.overdue_now": overdue.count()}


def _render(
    frame: CellFrame,
    ledger: Ledger,
    measures: tuple[Measure, ...],
    filters: Filters,
    period: Period,
    live: dict[str, int],
    labels: dict[str, Any],
    teams: dict[int, str],
    rollup_only: bool,
) -> dict[str, Any]:
    renderer = Renderer(
        frame=frame, ledger=ledger, labels=labels, teams=teams, live=live, rollup_filters_only=rollup_only
    )
    scope = Scope(period.key, tuple(period.months()))
    return {m.id: renderer.render(m, filters, scope) for m in measures}


def dashboard_answer(
    *, user: User, period: Period, filters: Filters, suppressed: bool = False, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Every measure the user may see, for one period and filters."""
    if not user.has_role(*INSIGHT_ROLES):
        raise NotFound("Not found.")
    suppressed = suppressed or sees_suppressed(user)
    if suppressed:
        check_suppressed_request(period, filters)
    return compute_answer(period=period, filters=filters, clinical=sees_clinical(user), suppressed=suppressed, now=now)


def compute_answer(
    *, period: Period, filters: Filters, clinical: bool, suppressed: bool, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The answer for a period (no access check: callers check). ``suppressed`` needs a period inside one
    fiscal year (``check_suppressed_request``)."""
    return compute_answers(period=period, filters=filters, clinical=clinical, now=now, both=suppressed)[
        1 if suppressed else 0
    ]


# (compute_answers renders once for both answers; with ``both`` the filters are those a suppressed
# answer may apply, so the unsuppressed twin of a filtered request is only used when ``both`` is off.)


def compute_answers(
    *, period: Period, filters: Filters, clinical: bool, now: dt.datetime | None = None, both: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(unsuppressed, suppressed) answers from one computation (the suppressed one only if ``both``)."""
    now = now or timezone.now()
    measures = measures_for(clinical=clinical)
    months = period.months()
    partial = None if period.is_month_aligned else (period.start, period.end)
    frame = build_frame(
        months=months, wants=_wants(measures, filters, rollup_only=both), team_breakdown=TEAM_BREAKDOWN, partial=partial
    )
    ledger = Ledger()
    live = live_values(filters, now)
    rendered = _render(frame, ledger, measures, filters, period, live, label_sets(), team_labels(), both)

    def answer(hidden: set[str], suppressed: bool) -> dict[str, Any]:
        return {
            "period": period.as_dict(),
            "filters": filters.as_dict(),
            "suppressed": suppressed,
            "catalogue_version": CATALOGUE_VERSION,
            "generated_at": now.isoformat(),
            "as_of": frame.as_of,
            "measures": finalize(rendered, hidden),
        }

    full = answer(set(), False)
    if not both:
        return full, full
    fy = period.fiscal_year_number or 0  # never 0: checked by the caller
    hidden = fiscal_year_hidden(fy, clinical=clinical)
    hidden |= {i for i in ledger.values if i.startswith("live:") and 1 <= ledger.values[i] <= PRIMARY_MAX}
    return full, answer(hidden, True)


# --- the fiscal year's suppression (one ledger per fiscal year, cached) -------------------------------


def fiscal_year_ledger(fy: int, *, clinical: bool) -> Ledger:
    """Every count of every analyst answer about fiscal year ``fy``: all 17 periods (year, quarters,
    months), the unfiltered slice and every call-type and source slice, with their identities."""
    hierarchy = fiscal_year_hierarchy(fy)
    measures = tuple(m for m in measures_for(clinical=clinical) if m.kind != LIVE)
    months = hierarchy[0].months()
    frame = build_frame(
        months=months,
        wants={m.family: [Filters()] for m in measures},
        team_breakdown=TEAM_BREAKDOWN,
        calls_partitions=True,
    )
    ledger = Ledger()
    renderer = Renderer(frame=frame, ledger=ledger, labels=label_sets(), teams=team_labels())
    scopes = [Scope(p.key, tuple(p.months())) for p in hierarchy]
    for scope in scopes:
        for m in measures:
            renderer.render(m, Filters(), scope)
    call_measures = [m for m in measures if m.family == CALLS]
    partition_slices: dict[str, list[Filters]] = {"call_type": [], "source": []}
    for family, key in list(frame.data):
        if family != CALLS or key == "all":
            continue
        name, _, value = key.partition("=")
        f = Filters(call_type=value) if name == "ct" else Filters(source=value)
        partition_slices["call_type" if name == "ct" else "source"].append(f)
    for dimension, slices in partition_slices.items():
        for f in slices:
            for scope in scopes:
                for m in call_measures:
                    if dimension in m.filters:
                        renderer.render(m, f, scope)
    _partition_groups(ledger, {d: [slice_key(f) for f in s] for d, s in partition_slices.items()})
    _hierarchy_groups(ledger, hierarchy)
    return ledger


def _split(cell_id: str) -> tuple[str, str, str] | None:
    parts = cell_id.rsplit("|", 2)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def _partition_groups(ledger: Ledger, slices: dict[str, list[str]]) -> None:
    """all = the sum of every call type's value (and of every source's), for every calls count."""
    by_quantity: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for cell_id in list(ledger.values):
        parsed = _split(cell_id)
        if parsed is None or not parsed[0].startswith(f"{CALLS}:") or cell_id in ledger.non_additive:
            continue
        quantity, slice_name, period = parsed
        by_quantity[(quantity, period)][slice_name] = cell_id
    for (quantity, period), ids in by_quantity.items():
        total = ids.get("all")
        if total is None:
            continue
        for names in slices.values():
            if not any(n in ids for n in names):
                continue
            parts = []
            for name in names:
                part = ids.get(name) or f"{quantity}|{name}|{period}"
                if part not in ledger.values:
                    ledger.num(part, 0)
                parts.append(part)
            ledger.group(total, parts)


def _hierarchy_groups(ledger: Ledger, hierarchy: list[Period]) -> None:
    """A fiscal year is the sum of its quarters, a quarter of its months, for every additive count."""
    fy, quarters, months = hierarchy[0], hierarchy[1:5], hierarchy[5:]
    keys = {p.key for p in hierarchy}
    quantities: set[tuple[str, str]] = set()
    for cell_id in ledger.values:
        parsed = _split(cell_id)
        if parsed and parsed[2] in keys and cell_id not in ledger.non_additive:
            quantities.add((parsed[0], parsed[1]))

    def cell(quantity: str, slice_name: str, period: Period) -> str:
        cell_id = f"{quantity}|{slice_name}|{period.key}"
        if cell_id not in ledger.values:
            ledger.num(cell_id, 0)
        return cell_id

    for quantity, slice_name in sorted(quantities):
        ledger.group(cell(quantity, slice_name, fy), [cell(quantity, slice_name, q) for q in quarters])
        for q in quarters:
            inside = [m for m in months if q.start <= m.start < q.end]
            ledger.group(cell(quantity, slice_name, q), [cell(quantity, slice_name, m) for m in inside])


def _fy_version(fy: int) -> str | None:
    months = fiscal_year_hierarchy(fy)[0].months()
    stamps = dict(RollupMonth.objects.filter(month__in=months).values_list("month", "computed_at"))
    if len(stamps) < len(months):
        return None  # some month is computed live: nothing stable to cache
    text = json.dumps([stamps[m].isoformat() for m in months] + [CATALOGUE_VERSION])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fiscal_year_hidden(fy: int, *, clinical: bool) -> set[str]:
    """The suppressed cells of fiscal year ``fy`` (cached until one of its months is recomputed)."""
    version = _fy_version(fy)
    key = f"insights:hidden:{fy}:{int(clinical)}:{version}"
    if version is not None:
        blob = cache.get(key)
        if blob is not None:
            return set(json.loads(zlib.decompress(blob)))
    ledger = fiscal_year_ledger(fy, clinical=clinical)
    hidden = suppress(ledger.values, ledger.groups)
    if version is not None:
        cache.set(key, zlib.compress(json.dumps(sorted(hidden)).encode()), FY_CACHE_SECONDS)
    return hidden


def warm_fiscal_years(months: list[dt.date]) -> None:
    """Compute the suppression of the fiscal years these months lie in (after a refresh)."""
    from .periods import fiscal_year_of

    for fy in sorted({fiscal_year_of(m) for m in months}):
        fiscal_year_hidden(fy, clinical=False)


def catalogue_for(user: User) -> tuple[Measure, ...]:
    if not user.has_role(*INSIGHT_ROLES):
        raise NotFound("Not found.")
    return measures_for(clinical=sees_clinical(user))


ALL_MEASURE_IDS = frozenset(m.id for m in MEASURES)
