"""Reads about who is on duty. Each selector runs a fixed number of queries, whatever the size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.teams.models import Team

from .models import Shift, ShiftMember


@dataclass(frozen=True)
class OnDutyTeam:
    """A team with a shift covering the moment asked, and that shift's members. Whether it is free
    for a call is the incidents app's question (``apps.incidents.selectors.team_availability``)."""

    team: Team
    shift: Shift
    members: list[ShiftMember]


def _with_members(qs: QuerySet[Shift]) -> QuerySet[Shift]:
    return qs.select_related("team").prefetch_related(
        Prefetch("members", queryset=ShiftMember.objects.select_related("user").order_by("role", "user__last_name"))
    )


def shifts_covering(*, at: dt.datetime) -> QuerySet[Shift]:
    return _with_members(Shift.objects.covering(at).filter(team__is_active=True))


def teams_on_duty(*, at: dt.datetime | None = None, team_ids: Collection[int] | None = None) -> list[OnDutyTeam]:
    """Teams with a shift covering ``at`` (default now), with the shift's members, by call sign.

    Two queries whatever the size: shifts with their team, members with their user. ``team_ids``
    limits it to those teams (an offer checks one team; it must not load the whole program).
    """
    at = at or timezone.now()
    covering = shifts_covering(at=at)
    if team_ids is not None:
        covering = covering.filter(team_id__in=list(team_ids))
    shifts = list(covering.order_by("team__call_sign", "starts_at"))
    return [OnDutyTeam(team=shift.team, shift=shift, members=list(shift.members.all())) for shift in shifts]


def shift_current_for_user(*, user: User, at: dt.datetime | None = None) -> Shift | None:
    at = at or timezone.now()
    return _with_members(Shift.objects.covering(at).filter(members__user=user)).first()


def shifts_in_range(
    *,
    start: dt.datetime,
    end: dt.datetime,
    team: Team | None = None,
    person: User | None = None,
) -> QuerySet[Shift]:
    qs = Shift.objects.overlapping(start, end)
    if team is not None:
        qs = qs.filter(team=team)
    if person is not None:
        qs = qs.filter(members__user=person)
    return _with_members(qs.distinct()).order_by("starts_at", "team__call_sign")


@dataclass(frozen=True)
class Gap:
    starts_at: dt.datetime
    ends_at: dt.datetime

    @property
    def hours(self) -> float:
        # In UTC: two local datetimes subtract by wall clock (a fall-back day would be 24 h, not 25 h).
        return (self.ends_at.astimezone(dt.UTC) - self.starts_at.astimezone(dt.UTC)).total_seconds() / 3600


def coverage_gaps(*, start: dt.datetime, end: dt.datetime) -> list[Gap]:
    """Periods in [start, end) with no co-response team on duty.

    Co-response shifts are validated to hold a clinician and an officer, so a covering shift is a
    staffed team.
    """
    intervals = sorted(
        Shift.objects.overlapping(start, end)
        .filter(team__kind=Team.Kind.CO_RESPONSE, team__is_active=True)
        .values_list("starts_at", "ends_at")
    )
    gaps: list[Gap] = []
    cursor = start
    for s, e in intervals:
        if s > cursor:
            gaps.append(Gap(cursor, min(s, end)))
        cursor = max(cursor, e)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append(Gap(cursor, end))
    return gaps
