"""Reads about who is on duty. Each selector runs a fixed number of queries, whatever the size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, Prefetch, QuerySet
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
    # Active assignments of the team (apps.incidents.models.Assignment), newest first.
    assignments: list[Any] = field(default_factory=list)
    last_cleared_at: dt.datetime | None = None


def _with_members(qs: QuerySet[Shift]) -> QuerySet[Shift]:
    return qs.select_related("team").prefetch_related(
        Prefetch("members", queryset=ShiftMember.objects.select_related("user").order_by("role", "user__last_name"))
    )


def shifts_covering(*, at: dt.datetime) -> QuerySet[Shift]:
    return _with_members(Shift.objects.covering(at).filter(team__is_active=True))


def derive_team_status(active_statuses: list[str]) -> str:
    """A team's primary status from the statuses of its active assignments (docs/incidents.md).

    No active assignment → available. Every active assignment past the scene (transporting or at
    the facility) → conditionally available: the pair can be redirected after the hand-off.
    Otherwise (offered, acknowledged, accepted, en route, on scene) → not available.
    """
    if not active_statuses:
        return TeamStatus.AVAILABLE
    if all(s in CONDITIONAL_ASSIGNMENT_STATUSES for s in active_statuses):
        return TeamStatus.CONDITIONALLY_AVAILABLE
    return TeamStatus.NOT_AVAILABLE


CONDITIONAL_ASSIGNMENT_STATUSES = frozenset({"transporting", "at_facility"})


def teams_on_duty(*, at: dt.datetime | None = None, team_ids: Collection[int] | None = None) -> list[OnDutyTeam]:
    """Teams with a shift covering ``at`` (default now), their members and derived primary status.

    Four queries whatever the size: shifts with their team, members with their user, the teams'
    active assignments with their incident, and each team's last clear time. ``team_ids`` limits it
    to those teams (an offer checks one team; it must not load the whole program on every call).
    """
    from apps.incidents.models import Assignment

    at = at or timezone.now()
    covering = shifts_covering(at=at)
    if team_ids is not None:
        covering = covering.filter(team_id__in=list(team_ids))
    shifts = list(covering.order_by("team__call_sign", "starts_at"))
    team_ids = {s.team_id for s in shifts}
    active: dict[int, list[Any]] = {}
    last_clear: dict[int, dt.datetime] = {}
    if team_ids:
        for a in (
            Assignment.objects.filter(team_id__in=team_ids, status__in=Assignment.ACTIVE)
            .select_related("incident")
            .order_by("-offered_at", "-id")
        ):
            active.setdefault(a.team_id, []).append(a)
        last_clear = dict(
            Assignment.objects.filter(team_id__in=team_ids, cleared_at__isnull=False)
            .values("team_id")
            .annotate(last=Max("cleared_at"))
            .values_list("team_id", "last")
        )
    result = []
    for shift in shifts:
        members = list(shift.members.all())
        assignments = active.get(shift.team_id, [])
        result.append(
            OnDutyTeam(
                team=shift.team,
                shift=shift,
                members=members,
                status=derive_team_status([a.status for a in assignments]),
                assignments=assignments,
                last_cleared_at=last_clear.get(shift.team_id),
            )
        )
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
