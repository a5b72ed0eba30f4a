"""Fixtures for the shift tests: a helper that books a co-response shift and local-time helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware America/New_York wall-clock moment (fold=0: the first of a repeated hour)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=NY)


@pytest.fixture
def book(team_a: Any, clinician_a: Any, officer_a: Any) -> Callable[..., Any]:
    """``book(start, end, team=..., members=[(user, role), ...])``: create a shift via the service."""
    from apps.shifts.services import MemberSpec, shift_create

    def make(
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        *,
        team: Any = None,
        members: list[tuple[Any, str]] | None = None,
    ) -> Any:
        pairs = members if members is not None else [(clinician_a, "clinician"), (officer_a, "officer")]
        return shift_create(
            team=team or team_a,
            starts_at=starts_at,
            ends_at=ends_at,
            members=[MemberSpec(user=u, role=r) for u, r in pairs],
        )

    return make
