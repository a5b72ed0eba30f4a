"""Small-cell suppression (DOMAIN.md §7): counts from 1 to 10 are shown as "<11", and a second cell is
suppressed wherever an identity would reveal a suppressed one (complementary suppression).

The ledger (apps/insights/render.py) lists every count an answer shows and every identity between them
(``total = part + part + …``). ``suppress`` finds the cells to hide:

1. primary: every count from 1 to 10;
2. repeat until nothing changes: in an identity with exactly one hidden cell, that cell could be
   recovered by subtraction, so hide one more: the smallest non-zero visible part that keeps the two
   hidden cells' sum at 21 or more (else the smallest; ties by id, so the choice is deterministic), or
   the total when no part can be hidden.

Zeros are never hidden. A hidden count from 1 to 10 reads "<11"; a larger count hidden to protect it
reads "*" (so "<11" is always true). Rates and percentiles resting on a hidden count are not
shown (``render.finalize``).

Which identities are in the ledger decides what is protected. For an analyst's answer the ledger holds,
besides the answer's own tables, the whole fiscal year the period lies in (its 12 months, 4 quarters and
the year, joined by month ⊂ quarter ⊂ year) and, for a filtered answer, every other value of the
filtered dimension (all call types, say, joined by "all = sum of the values"). Every analyst answer about a
fiscal year is cut from the same ledger, so the month, quarter and year views hide consistently and no
subtraction between them reveals a hidden cell. Limits: docs/insights.md "Privacy".
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable

PRIMARY_MAX = 10
PAIR_MIN = 2 * PRIMARY_MAX + 1


def suppress(values: dict[str, int], groups: Iterable[tuple[str, tuple[str, ...]]]) -> set[str]:
    groups = [(t, ps) for t, ps in groups if t in values and all(p in values for p in ps)]
    hidden = {cid for cid, v in values.items() if 1 <= v <= PRIMARY_MAX}
    # Which groups each cell is in, to revisit only the groups a newly hidden cell touches.
    member_of: dict[str, list[int]] = defaultdict(list)
    for index, (total, parts) in enumerate(groups):
        member_of[total].append(index)
        for p in parts:
            member_of[p].append(index)
    # Groups to (re)check, in order; a group re-enters when one of its cells becomes hidden.
    queue = list(range(len(groups)))
    queued = set(queue)
    while queue:
        index = heapq.heappop(queue)
        queued.discard(index)
        total, parts = groups[index]
        cells = (total, *parts)
        hidden_here = [c for c in cells if c in hidden]
        if len(hidden_here) != 1:
            continue
        candidates = [p for p in parts if p not in hidden and values[p] > 0]
        if candidates:
            # The smallest part that keeps the hidden pair's sum at 21 or more, where there is one: shown as
            # "<11" and "*", a pair summing to less would narrow the small cell's range (1..sum-11).
            needed = PAIR_MIN - values[hidden_here[0]]
            wide = [c for c in candidates if values[c] >= needed]
            extra = min(wide or candidates, key=lambda c: (values[c], c))
        elif total not in hidden and values[total] > 0:
            extra = total
        else:
            continue  # every other cell is 0: the hidden one is 0 too, nothing to protect
        hidden.add(extra)
        for other in member_of[extra]:
            if other not in queued:
                queued.add(other)
                heapq.heappush(queue, other)
    return hidden


def revealed(values: dict[str, int], groups: Iterable[tuple[str, tuple[str, ...]]], hidden: set[str]) -> set[str]:
    """Hidden cells that one identity alone gives away (a check for the tests: should be empty)."""
    out = set()
    for total, parts in groups:
        cells = (total, *parts)
        hidden_here = [c for c in cells if c in hidden]
        if len(hidden_here) == 1 and values.get(hidden_here[0], 0) > 0:
            out.add(hidden_here[0])
    return out
