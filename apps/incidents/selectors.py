"""Reads of incidents and assignments, with the permission check built in.

Lists run a fixed number of queries whatever their length (the active assignment and its team are
prefetched; the officer's current calls are one query).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.shifts.selectors import OnDutyTeam, TeamStatus, teams_on_duty

from . import access
from .models import Assignment, Incident, TimelineEntry


def _with_active(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    return qs.select_related("call_type").prefetch_related(
        Prefetch(
            "assignments",
            queryset=Assignment.objects.filter(status__in=Assignment.ACTIVE).select_related("team"),
            to_attr="active_assignments",
        )
    )


def active_assignment_of(incident: Incident) -> Assignment | None:
    """The prefetched active assignment (see ``_with_active``), or a query when not prefetched."""
    prefetched: list[Assignment] | None = getattr(incident, "active_assignments", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return Assignment.objects.select_related("team").filter(incident=incident, status__in=Assignment.ACTIVE).first()


def _require_reader(user: User) -> str:
    tier = access.base_tier(user)
    if tier is None:
        raise NotFound("Incident not found.")
    return tier


def incident_get_for_user(*, incident_id: int, user: User) -> Incident:
    _require_reader(user)
    incident = (
        _with_active(Incident.objects.filter(pk=incident_id))
        .prefetch_related(
            Prefetch(
                "timeline",
                queryset=TimelineEntry.objects.select_related("actor").order_by("at", "id"),
            ),
            Prefetch("assignments", queryset=Assignment.objects.select_related("team"), to_attr="all_assignments"),
        )
        .first()
    )
    if incident is None:
        raise NotFound("Incident not found.")
    return incident


@dataclass(frozen=True)
class IncidentFilters:
    status: list[str] | None = None
    open: bool | None = None
    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None
    team_id: int | None = None
    call_type: str | None = None
    behavioral_health: bool | None = None


def incident_list(*, user: User, filters: IncidentFilters) -> QuerySet[Incident]:
    _require_reader(user)
    qs = Incident.objects.all()
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.open is not None:
        open_q = Q(status__in=Incident.OPEN_STATUSES)
        qs = qs.filter(open_q) if filters.open else qs.exclude(open_q)
    if filters.received_from is not None:
        qs = qs.filter(received_at__gte=filters.received_from)
    if filters.received_to is not None:
        qs = qs.filter(received_at__lt=filters.received_to)
    if filters.team_id is not None:
        qs = qs.filter(id__in=Assignment.objects.filter(team_id=filters.team_id).values("incident_id"))
    if filters.call_type:
        qs = qs.filter(call_type_code__iexact=filters.call_type)
    if filters.behavioral_health is not None:
        qs = qs.filter(behavioral_health=filters.behavioral_health)
    return _with_active(qs).order_by("-received_at", "-id")


def incident_board(*, user: User) -> QuerySet[Incident]:
    """Open incidents, highest priority first, then oldest first, with their assignment state."""
    _require_reader(user)
    return _with_active(Incident.objects.filter(status__in=Incident.OPEN_STATUSES)).order_by(
        F("priority").desc(), "received_at", "id"
    )


def assignment_inbox(*, user: User) -> list[Assignment]:
    """Offered and active assignments of the teams the user is on shift with now (or was offered on)."""
    now = timezone.now()
    rows = list(
        Assignment.objects.filter(status__in=Assignment.ACTIVE)
        .filter(
            Q(shift__members__user=user)
            | Q(team__shifts__members__user=user, team__shifts__starts_at__lte=now, team__shifts__ends_at__gt=now)
        )
        .distinct()
        .select_related("team", "incident", "incident__call_type")
        .order_by("-incident__priority", "offered_at")
    )
    for row in rows:
        row.incident.active_assignments = [row]  # type: ignore[attr-defined]  # what _with_active would prefetch
    return rows


@dataclass(frozen=True)
class Recommendation:
    duty: OnDutyTeam
    current_assignment: Assignment | None
    minutes_since_clear: int | None


_STATUS_ORDER = {TeamStatus.AVAILABLE: 0, TeamStatus.CONDITIONALLY_AVAILABLE: 1, TeamStatus.NOT_AVAILABLE: 2}


def incident_recommendations(*, incident_id: int, user: User) -> list[Recommendation]:
    """On-duty teams: available first, then conditionally available, then busy; within a group the
    team that has waited longest since its last clear first (never cleared counts as longest)."""
    if not user.has_role(*access.DISPATCH_ROLES):
        raise NotFound("Incident not found.")
    if not Incident.objects.filter(pk=incident_id).exists():
        raise NotFound("Incident not found.")
    now = timezone.now()
    out = []
    for duty in teams_on_duty(at=now):
        since = int((now - duty.last_cleared_at).total_seconds() // 60) if duty.last_cleared_at else None
        out.append(
            Recommendation(
                duty=duty,
                current_assignment=duty.assignments[0] if duty.assignments else None,
                minutes_since_clear=since,
            )
        )
    out.sort(
        key=lambda r: (
            _STATUS_ORDER.get(r.duty.status, 9),
            -(r.minutes_since_clear if r.minutes_since_clear is not None else 10**9),
            r.duty.team.call_sign,
        )
    )
    return out


def viewer_context(user: User) -> dict[str, Any]:
    """What the output serializers need to filter fields: the base tier and the officer's current calls."""
    tier = access.base_tier(user)
    current = access.current_incident_ids(user) if tier == access.OFFICER else set()
    return {"base_tier": tier, "current_ids": current}
