"""Reads about who is on duty. Each selector runs a fixed number of queries, whatever the size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.teams.models import Team

from .models import Shift, ShiftMember


class TeamStatus:
    AVAILABLE = "available"
    CONDITIONALLY_AVAILABLE = "conditionally_available"
    NOT_AVAILABLE = "not_available"
    OFF_DUTY = "off_duty"


@dataclass(frozen=True)
class OnDutyTeam:
    team: Team
    shift: Shift
    members: list[ShiftMember]
    status: str


def _with_members(qs: QuerySet[Shift]) -> QuerySet[Shift]:
    return qs.select_related("team").prefetch_related(
        Prefetch("members", queryset=ShiftMember.objects.select_related("user").order_by("role", "user__last_name"))
    )


def shifts_covering(*, at: dt.datetime) -> QuerySet[Shift]:
    return _with_members(Shift.objects.covering(at).filter(team__is_active=True))


def teams_on_duty(*, at: dt.datetime | None = None) -> list[OnDutyTeam]:
    """Teams with a shift covering ``at`` (default now), their members and primary status.

    Two queries: shifts with their team, then members with their user.
    """
    at = at or timezone.now()
    result = []
    for shift in shifts_covering(at=at).order_by("team__call_sign", "starts_at"):
        members = list(shift.members.all())
        result.append(OnDutyTeam(team=shift.team, shift=shift, members=members, status=TeamStatus.AVAILABLE))
    return result


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
        return (self.ends_at - self.starts_at).total_seconds() / 3600


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
