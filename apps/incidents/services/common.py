"""What every incident write shares: the timeline, the incident row lock, the role check, the
role-filtered dispatch event to the board and the team."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import Invalid, NotFound
from apps.realtime.models import Event
from apps.realtime.services import dispatcher_recipients, event_emit

from .. import access
from ..models import Assignment, CallType, Incident, TimelineEntry


def timeline_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def timeline_log(
    incident: Incident,
    *,
    kind: str,
    actor: User | None,
    field: str = "",
    old: Any = None,
    new: Any = None,
    assignment: Assignment | None = None,
    at: dt.datetime | None = None,
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        incident=incident,
        kind=kind,
        actor=actor,
        field=field,
        old_value=timeline_text(old),
        new_value=timeline_text(new),
        assignment=assignment,
        at=at or timezone.now(),
    )


def lock_incident(incident_id: int) -> Incident:
    incident = (
        Incident.objects.select_for_update(of=("self",)).select_related("call_type").filter(pk=incident_id).first()
    )
    if incident is None:
        raise NotFound("Incident not found.")
    return incident


def require_dispatcher(by: User) -> None:
    if not by.has_role(*access.DISPATCH_ROLES):
        raise PermissionDenied("Only a dispatcher or supervisor may do this.")


def resolve_call_type(code: str, *, strict: bool) -> CallType | None:
    if not code:
        return None
    call_type = CallType.objects.filter(local_code__iexact=code, is_active=True).first()
    if call_type is None and strict:
        raise Invalid("Unknown call type.", errors={"call_type": [f"Unknown call type code {code!r}."]})
    return call_type


def dispatch_fields(incident: Incident) -> dict[str, Any]:
    ct = incident.call_type
    return {
        "incident_id": incident.pk,
        "incident_status": incident.status,
        "call_type": incident.call_type_code,
        "call_type_common": ct.apco_code if ct else "",
        "priority": incident.priority,
        "address": incident.address,
        "beat": incident.beat,
        "safety": {
            "weapon_present": incident.weapon_present,
            "weapon_kind": incident.weapon_kind,
            "violence_toward_responders": incident.violence_toward_responders,
            "substances_involved": incident.substances_involved,
            "premise_hazards": incident.premise_hazards,
        },
    }


def emit(
    *,
    type: str,
    incident: Incident,
    assignment: Assignment | None = None,
    team_member_ids: set[int] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> list[Event]:
    """One event to the board (dispatchers, supervisors) and, for an assignment, the team on shift.
    Returns the stored events (one per recipient, one shared uid).

    Payloads carry ids, statuses and dispatch fields only. The subject's name is added for roles
    that may see it: full-access roles, and an officer only while this is their current call.
    """
    members = team_member_ids or set()
    recipients = set(dispatcher_recipients()) | members
    base: dict[str, Any] = dispatch_fields(incident)
    if assignment is not None:
        base |= {
            "assignment_id": assignment.pk,
            "status": assignment.status,
            "team_id": assignment.team_id,
            "team_call_sign": assignment.team.call_sign,
        }
    base |= dict(extra or {})
    on_call = assignment is not None and assignment.is_active

    def payload(user: User) -> dict[str, Any] | None:
        tier = access.base_tier(user)
        if tier is None:
            return None
        data = dict(base)
        if tier == access.FULL or (tier == access.OFFICER and on_call and user.pk in members):
            data["subject_name"] = incident.subject_name
        if tier == access.DEIDENTIFIED:
            return None  # analysts are never recipients of live dispatch events
        return data

    return event_emit(type=type, recipients=recipients, data=payload)


def team_member_ids(assignment: Assignment) -> set[int]:
    return access.shift_member_ids(
        team_ids=[assignment.team_id], shift_ids=[assignment.shift_id] if assignment.shift_id else []
    )


def active_assignment(incident: Incident) -> Assignment | None:
    return Assignment.objects.select_related("team").filter(incident=incident, status__in=Assignment.ACTIVE).first()
