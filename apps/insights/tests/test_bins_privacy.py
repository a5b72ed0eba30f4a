"""Histogram bins and percentiles; small-cell and complementary suppression."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.insights import bins
from apps.insights.privacy import revealed, suppress

EDGES = sorted({0, 1, 4, 5, 6, 20, 21, 119, 120, 134, 135, 599, 600, 659, 660, 3599, 3600, 3899, 3900, 14399,
                14400, 16199, 16200, 86399})  # fmt: skip


def test_bins_are_contiguous_and_percentiles_are_bin_upper_edges() -> None:
    assert bins.bin_of(-1) is None and bins.bin_of(86400) is None
    previous_hi = 0
    for index in range(bins.BIN_COUNT):
        lo, hi = bins.bin_bounds(index)
        assert lo == previous_hi and bins.bin_of(lo) == index and bins.bin_of(hi - 1) == index
        previous_hi = hi
    assert previous_hi == bins.MAX_SECONDS
    # Ten values 10, 20, …, 100 s: median rank 5 (50 s → bin [50, 55)), p90 rank 9 (90 s → [90, 95)).
    hist = bins.histogram_of(range(10, 101, 10))
    assert (bins.percentile(hist, 0.5), bins.percentile(hist, 0.9)) == (55, 95)
    # Intervals of 13 min, 14 min 10 s, 40 min: p50 is the 14-minute bin's upper edge (15 min).
    hist = bins.histogram_of([13 * 60, 14 * 60 + 10, 40 * 60])
    assert bins.percentile(hist, 0.5) == 15 * 60
    assert bins.percentile(hist, 0.9) == 41 * 60
    assert bins.percentile({}, 0.5) is None


@pytest.mark.django_db
def test_the_sql_bin_expression_matches_python_at_every_edge() -> None:
    from django.db.models import IntegerField, Value

    from apps.teams.models import Team

    Team.objects.create(call_sign="X")
    for seconds in [-5, *EDGES, 86400, 90000]:
        got = (
            Team.objects.annotate(s=Value(seconds, output_field=IntegerField()))
            .annotate(b=bins.bin_expression("s"))
            .values_list("b", flat=True)
            .get()
        )
        assert got == bins.bin_of(seconds), seconds


def test_primary_suppression_hides_1_to_10_never_0_or_11() -> None:
    values = {"a": 0, "b": 1, "c": 10, "d": 11}
    assert suppress(values, []) == {"b", "c"}


def test_one_small_cell_in_a_breakdown_hides_a_second_one() -> None:
    # total 120 = 3 + 40 + 77: the 3 would be 120 - 40 - 77; the 40 is hidden with it (3 + 40 >= 21).
    values = {"t": 120, "a": 3, "b": 40, "c": 77}
    hidden = suppress(values, [("t", ("a", "b", "c"))])
    assert hidden == {"a", "b"}
    assert not revealed(values, [("t", ("a", "b", "c"))], hidden)


def test_the_complement_keeps_the_pair_wide() -> None:
    # 2 + 12 = 14 would say the small cell is at most 3; 2 + 30 keeps it anywhere in 1-10.
    values = {"t": 100, "a": 2, "b": 12, "c": 30, "d": 56}
    assert suppress(values, [("t", ("a", "b", "c", "d"))]) == {"a", "c"}
    # With no part that large, the smallest non-zero part.
    values = {"t": 27, "a": 2, "b": 0, "c": 12, "d": 13}
    assert suppress(values, [("t", ("a", "b", "c", "d"))]) == {"a", "c"}


def test_a_small_total_with_one_large_part_is_consistent() -> None:
    # Total 8 is small; its only non-zero part is the same 8: both primary, nothing else to hide.
    values = {"t": 8, "a": 8, "b": 0}
    assert suppress(values, [("t", ("a", "b"))]) == {"t", "a"}


def test_a_hidden_total_hides_a_part() -> None:
    # A share: denominator 15 = numerator 11 + rest 4. The rest is small, so the numerator goes too.
    values = {"den": 15, "num": 11, "rest": 4}
    assert suppress(values, [("den", ("num", "rest"))]) == {"num", "rest"}


def test_suppression_cascades_across_linked_tables() -> None:
    # A month table and its quarter: hiding a month's cell forces a second month, which forces a second
    # cell in that month's own breakdown.
    values = {"Q": 300, "M1": 5, "M2": 95, "M3": 200, "M2a": 50, "M2b": 45}
    groups = [("Q", ("M1", "M2", "M3")), ("M2", ("M2a", "M2b"))]
    hidden = suppress(values, groups)
    assert {"M1", "M2"} <= hidden
    assert len(hidden & {"M2a", "M2b"}) >= 1
    assert not revealed(values, groups, hidden)


@st.composite
def tables(draw: Any) -> tuple[dict[str, int], list[tuple[str, tuple[str, ...]]]]:
    """Random two-level tables: totals of parts, some parts themselves totals of sub-parts."""
    rng = random.Random(draw(st.integers(0, 10**6)))
    values: dict[str, int] = {}
    groups: list[tuple[str, tuple[str, ...]]] = []
    for t in range(draw(st.integers(1, 4))):
        parts = []
        for p in range(rng.randint(2, 6)):
            name = f"t{t}p{p}"
            if rng.random() < 0.3:
                subs = [f"{name}s{s}" for s in range(rng.randint(2, 4))]
                for s in subs:
                    values[s] = rng.choice([0, 0, 1, 3, 7, 10, 11, 12, 25, 80])
                values[name] = sum(values[s] for s in subs)
                groups.append((name, tuple(subs)))
            else:
                values[name] = rng.choice([0, 1, 2, 5, 9, 10, 11, 15, 40, 200])
            parts.append(name)
        values[f"t{t}"] = sum(values[p] for p in parts)
        groups.append((f"t{t}", tuple(parts)))
    return values, groups


@settings(max_examples=200, deadline=None)
@given(tables())
def test_no_identity_reveals_a_hidden_cell_and_every_small_cell_is_hidden(
    table: tuple[dict[str, int], list[tuple[str, tuple[str, ...]]]],
) -> None:
    values, groups = table
    hidden = suppress(values, groups)
    assert {k for k, v in values.items() if 1 <= v <= 10} <= hidden
    assert all(values[k] > 0 for k in hidden)
    assert not revealed(values, groups, hidden)
