"""Reads of incidents and assignments, with the permission check built in.

Lists run a fixed number of queries whatever their length (the active assignment and its team are
prefetched; the officer's current calls are one query).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import Invalid, NotFound
from apps.core.timefmt import local_day_bounds
from apps.shifts.models import Shift, ShiftMember
from apps.shifts.selectors import teams_on_duty
from apps.teams.models import Team

from . import access, hooks
from .models import Assignment, Incident, TimelineEntry, UnassignedAlert


def _with_active(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    return qs.select_related("call_type").prefetch_related(
        Prefetch(
            "assignments",
            queryset=Assignment.objects.filter(status__in=Assignment.ACTIVE).select_related("team"),
            to_attr="active_assignments",
        ),
        Prefetch(
            "unassigned_alerts",
            queryset=UnassignedAlert.objects.filter(cleared_at__isnull=True),
            to_attr="open_unassigned_alerts",
        ),
    )


def open_unassigned_alert_of(incident: Incident) -> UnassignedAlert | None:
    """The call's open unassigned alert, when prefetched (``_with_active``); None otherwise: a row
    read without it (an inbox row) has a team, so no alert."""
    prefetched: list[UnassignedAlert] | None = getattr(incident, "open_unassigned_alerts", None)
    return prefetched[0] if prefetched else None


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


@dataclass(frozen=True)
class ClosedFilters:
    """The closed-calls search: received on a local day range, parts of the CAD number or address,
    the team that had it (call sign), a disposition code of its encounters."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    cad_number: str = ""
    address: str = ""
    team: str = ""
    disposition: str = ""


CLOSED_STATUSES = (Incident.Status.CLOSED, Incident.Status.CANCELLED)


def incident_closed_list(*, user: User, filters: ClosedFilters) -> QuerySet[Incident]:
    """Closed and cancelled calls, most recently closed first, for the same readers (and with the same
    field filtering, done by the output) as open incidents. A search by a field the reader's tier does
    not show (an analyst's address or CAD number) is refused: its answer would reveal the field."""
    tier = _require_reader(user)
    hidden = access.hidden_fields(tier)
    refused = {name: ["Not available for your role."] for name in ("cad_number", "address") if getattr(filters, name)}
    refused = {name: why for name, why in refused.items() if name in hidden}
    if refused:
        raise Invalid("You may not search by these fields.", errors=refused)
    qs = Incident.objects.filter(status__in=CLOSED_STATUSES)
    if filters.date_from is not None:
        qs = qs.filter(received_at__gte=local_day_bounds(filters.date_from)[0])
    if filters.date_to is not None:
        qs = qs.filter(received_at__lt=local_day_bounds(filters.date_to)[1])
    if filters.cad_number:
        qs = qs.filter(cad_number__icontains=filters.cad_number)
    if filters.address:
        qs = qs.filter(address__icontains=filters.address)
    if filters.team:
        qs = qs.filter(id__in=Assignment.objects.filter(team__call_sign__iexact=filters.team).values("incident_id"))
    if filters.disposition:
        source = hooks.disposition_source()
        qs = qs.filter(id__in=source.incident_ids_with(filters.disposition)) if source else qs.none()
    return (
        qs.select_related("call_type")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.select_related("team").order_by("-offered_at", "-id"),
                to_attr="all_assignments",
            )
        )
        .order_by(F("closed_at").desc(nulls_last=True), "-received_at", "-id")
    )


def dispositions_of(incident_ids: Collection[int]) -> dict[int, list[str]]:
    """Disposition codes per incident, from the registered source (apps.clinical); one query."""
    source = hooks.disposition_source()
    return source.codes_of(incident_ids) if source and incident_ids else {}


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


# --- availability: who is free for a call -----------------------------------------------------------


class TeamStatus:
    AVAILABLE = "available"
    CONDITIONALLY_AVAILABLE = "conditionally_available"
    NOT_AVAILABLE = "not_available"
    OFF_DUTY = "off_duty"  # no shift covering the moment (such a team is not listed)


# Past the scene: the pair can be redirected after the hand-off.
CONDITIONAL_ASSIGNMENT_STATUSES = frozenset({Assignment.Status.TRANSPORTING, Assignment.Status.AT_FACILITY})


def derive_team_status(active_statuses: list[str]) -> str:
    """A team's primary status from the statuses of its active assignments (docs/incidents.md).

    No active assignment → available. Every active assignment past the scene (transporting or at
    the facility) → conditionally available. Otherwise (offered, acknowledged, accepted, en route,
    on scene) → not available.
    """
    if not active_statuses:
        return TeamStatus.AVAILABLE
    if all(s in CONDITIONAL_ASSIGNMENT_STATUSES for s in active_statuses):
        return TeamStatus.CONDITIONALLY_AVAILABLE
    return TeamStatus.NOT_AVAILABLE


@dataclass(frozen=True)
class TeamAvailability:
    """An on-duty team (apps.shifts) with what its assignments make of it."""

    team: Team
    shift: Shift
    members: list[ShiftMember]
    status: str
    assignments: list[Assignment] = field(default_factory=list)  # active ones, newest first
    last_cleared_at: dt.datetime | None = None


def team_availability(
    *, at: dt.datetime | None = None, team_ids: Collection[int] | None = None
) -> list[TeamAvailability]:
    """Teams on duty at ``at`` (default now; shifts' selector), each with its active assignments and
    derived primary status, by call sign. Four queries whatever the size: shifts with their team,
    members with their user, the teams' active assignments with their incident, each team's last
    clear time. ``team_ids`` limits it to those teams (an offer checks one)."""
    on_duty = teams_on_duty(at=at, team_ids=team_ids)
    ids = {duty.team.pk for duty in on_duty}
    active: dict[int, list[Assignment]] = {}
    last_clear: dict[int, dt.datetime] = {}
    if ids:
        for a in (
            Assignment.objects.filter(team_id__in=ids, status__in=Assignment.ACTIVE)
            .select_related("incident")
            .order_by("-offered_at", "-id")
        ):
            active.setdefault(a.team_id, []).append(a)
        last_clear = dict(
            Assignment.objects.filter(team_id__in=ids, cleared_at__isnull=False)
            .values("team_id")
            .annotate(last=Max("cleared_at"))
            .values_list("team_id", "last")
        )
    return [
        TeamAvailability(
            team=duty.team,
            shift=duty.shift,
            members=duty.members,
            status=derive_team_status([a.status for a in active.get(duty.team.pk, [])]),
            assignments=active.get(duty.team.pk, []),
            last_cleared_at=last_clear.get(duty.team.pk),
        )
        for duty in on_duty
    ]


@dataclass(frozen=True)
class Recommendation:
    duty: TeamAvailability
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
    for duty in team_availability(at=now):
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
