"""Interval histograms: the fixed bins response times are counted in, and percentiles read from them.

Percentiles do not add up across months or teams, counts do: so each interval measure is stored as
counts per bin (per month and team) and a percentile is read from the merged histogram. The bins are
fine where the numbers are small and coarser where they are large (relative resolution about 4-8 %):

| interval        | bin width |
|-----------------|-----------|
| 0 – 2 min       | 5 s       |
| 2 – 10 min      | 15 s      |
| 10 – 60 min     | 1 min     |
| 1 – 4 h         | 5 min     |
| 4 – 24 h        | 30 min    |

A percentile is reported as the **upper edge** of the bin that holds it (nearest-rank definition:
the smallest bin whose cumulative count reaches ``ceil(q × n)``), so it is never understated: "p90
≤ 14 min". Intervals are whole seconds, rounded down; negative intervals (clock errors) and
intervals of 24 h or more (a call nobody cleared) are excluded from the measure.

The same bin rule is written once in Python (``bin_of``) and once as a SQL expression
(``bin_expression``); a test checks them against each other at every edge.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.expressions import Combinable

# (lower edge, upper edge, width) in seconds; contiguous from 0 to MAX_SECONDS.
RANGES: tuple[tuple[int, int, int], ...] = (
    (0, 120, 5),
    (120, 600, 15),
    (600, 3600, 60),
    (3600, 14400, 300),
    (14400, 86400, 1800),
)
MAX_SECONDS = RANGES[-1][1]  # intervals of 24 h or more are excluded

_FIRST_BIN: list[int] = []
_n = 0
for _lo, _hi, _w in RANGES:
    _FIRST_BIN.append(_n)
    _n += (_hi - _lo) // _w
BIN_COUNT = _n


def bin_of(seconds: int) -> int | None:
    """The bin of an interval in whole seconds, or None when it is excluded (< 0 or >= 24 h)."""
    if seconds < 0 or seconds >= MAX_SECONDS:
        return None
    for (lo, hi, width), first in zip(RANGES, _FIRST_BIN, strict=True):
        if seconds < hi:
            return first + (seconds - lo) // width
    return None  # pragma: no cover - unreachable (seconds < MAX_SECONDS)


def bin_bounds(index: int) -> tuple[int, int]:
    """[lower, upper) edges of a bin, in seconds."""
    for (lo, _hi, width), first in zip(RANGES, _FIRST_BIN, strict=True):
        count = (_hi - lo) // width
        if first <= index < first + count:
            low = lo + (index - first) * width
            return low, low + width
    raise ValueError(f"no bin {index}")


def bin_expression(seconds: str) -> Case:
    """SQL for ``bin_of`` over the integer annotation named ``seconds`` (NULL when excluded)."""
    whens = [When(**{f"{seconds}__lt": 0}, then=Value(None))]
    for (lo, hi, width), first in zip(RANGES, _FIRST_BIN, strict=True):
        offset: Combinable = F(seconds) - Value(lo)
        whens.append(When(**{f"{seconds}__lt": hi}, then=offset / Value(width) + Value(first)))
    return Case(*whens, default=Value(None), output_field=IntegerField())


def merge(into: dict[int, int], other: Mapping[int | str, int]) -> dict[int, int]:
    for key, count in other.items():
        k = int(key)
        into[k] = into.get(k, 0) + int(count)
    return into


def observations(hist: Mapping[int, int]) -> int:
    return sum(hist.values())


def percentile(hist: Mapping[int, int], q: float) -> int | None:
    """Nearest-rank ``q`` percentile (0 < q <= 1) of a histogram, as its bin's upper edge in seconds."""
    n = observations(hist)
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n - 1e-9))
    seen = 0
    for index in sorted(hist):
        seen += hist[index]
        if seen >= rank:
            return bin_bounds(index)[1]
    return None  # pragma: no cover - ranks never exceed n


def histogram_of(values: Iterable[int]) -> dict[int, int]:
    """The histogram of raw intervals (for tests and the naive recomputation)."""
    out: dict[int, int] = {}
    for v in values:
        b = bin_of(v)
        if b is not None:
            out[b] = out.get(b, 0) + 1
    return out
