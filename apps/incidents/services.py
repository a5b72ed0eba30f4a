"""Every write to incidents and assignments. ``grep -n "def assignment_" apps/incidents/services.py``
lists every way an assignment can change.

Concurrency: each write locks the incident row first (``select_for_update``), then changes the
assignment with a conditional UPDATE (``... WHERE status IN (allowed sources)``). The lock orders
writers per incident (no deadlock between an offer and an accept); the conditional update and the
partial unique index ``assignment_one_active_per_incident`` are the guarantees: two devices or two
dispatchers racing get exactly one winner, the other a Conflict (409) with the current state.

Events are emitted inside the transaction with ``event_emit``; they ring after commit.

The services are plain (not durable) atomic blocks on purpose: apps.core.idempotency runs a write
inside its own transaction together with the idempotency record, so they must nest. Nested, the
row lock and the conditional update still hold until the outermost commit, and on_commit events
still ring only then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import Conflict, Invalid, NotFound
from apps.realtime.services import dispatcher_recipients, event_emit
from apps.teams.models import Team

from . import access
from .models import Assignment, CallType, Incident, TimelineEntry
from .selectors import TeamStatus, team_availability

S = Assignment.Status
IS = Incident.Status

# target status → statuses it may be reached from (the lifecycle, in one place).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.ACKNOWLEDGED: (S.OFFERED,),
    S.ACCEPTED: (S.OFFERED, S.ACKNOWLEDGED),
    S.DECLINED: (S.OFFERED, S.ACKNOWLEDGED),
    S.EXPIRED: (S.OFFERED, S.ACKNOWLEDGED),
    S.CANCELLED: (S.OFFERED, S.ACKNOWLEDGED, S.ACCEPTED, S.EN_ROUTE),
    S.EN_ROUTE: (S.ACCEPTED,),
    S.ON_SCENE: (S.EN_ROUTE,),
    S.TRANSPORTING: (S.ON_SCENE,),
    S.AT_FACILITY: (S.TRANSPORTING,),
    S.CLEARED: (S.ON_SCENE, S.TRANSPORTING, S.AT_FACILITY),
}
# Status updates a team sends with assignment_status_update (accept/decline/cancel have their own).
FIELD_STATUSES = (S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING, S.AT_FACILITY, S.CLEARED)
STAMP: dict[str, str] = {
    S.ACKNOWLEDGED: "acknowledged_at",
    S.ACCEPTED: "accepted_at",
    S.EN_ROUTE: "en_route_at",
    S.ON_SCENE: "on_scene_at",
    S.TRANSPORTING: "transporting_at",
    S.AT_FACILITY: "at_facility_at",
    S.CLEARED: "cleared_at",
    S.DECLINED: "ended_at",
    S.EXPIRED: "ended_at",
    S.CANCELLED: "ended_at",
}
# The incident status that follows an assignment status (EIDO common values).
INCIDENT_STATUS_FOR: dict[str, str] = {
    S.ACCEPTED: IS.RESOURCES_ASSIGNED,
    S.EN_ROUTE: IS.RESOURCES_ENROUTE,
    S.ON_SCENE: IS.RESOURCES_ONSCENE,
    S.TRANSPORTING: IS.RESOURCES_ONSCENE,
    S.AT_FACILITY: IS.RESOURCES_ONSCENE,
    S.CLEARED: IS.CLOSED,
}
ENDED = (S.DECLINED, S.EXPIRED, S.CANCELLED)
# Event type per transition; the field statuses (en route … cleared) are all "assignment.status".
EVENT_FOR: dict[str, str] = {
    S.ACKNOWLEDGED: "assignment.acknowledged",
    S.ACCEPTED: "assignment.accepted",
    S.DECLINED: "assignment.declined",
    S.EXPIRED: "assignment.expired",
    S.CANCELLED: "assignment.cancelled",
}

# Tolerated difference between the CAD's clock (or a phone's) and ours.
CLOCK_SKEW = dt.timedelta(minutes=5)

# Fields a dispatcher may edit on an incident (and the CAD may update), with their timeline names.
EDITABLE_FIELDS = (
    "received_at",
    "source",
    "call_type_code",
    "priority_local",
    "priority",
    "address",
    "latitude",
    "longitude",
    "beat",
    "district",
    "caller_name",
    "caller_phone",
    "subject_name",
    "subject_dob",
    "subject_phone",
    "subject_description",
    "weapon_present",
    "weapon_kind",
    "violence_toward_responders",
    "substances_involved",
    "premise_hazards",
    "safety_notes",
    "operational_notes",
    "behavioral_health",
)


# --- helpers ----------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _log(
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
        old_value=_text(old),
        new_value=_text(new),
        assignment=assignment,
        at=at or timezone.now(),
    )


def _lock_incident(incident_id: int) -> Incident:
    incident = (
        Incident.objects.select_for_update(of=("self",)).select_related("call_type").filter(pk=incident_id).first()
    )
    if incident is None:
        raise NotFound("Incident not found.")
    return incident


def _require_dispatcher(by: User) -> None:
    if not by.has_role(*access.DISPATCH_ROLES):
        raise PermissionDenied("Only a dispatcher or supervisor may do this.")


def _resolve_call_type(code: str, *, strict: bool) -> CallType | None:
    if not code:
        return None
    call_type = CallType.objects.filter(local_code__iexact=code, is_active=True).first()
    if call_type is None and strict:
        raise Invalid("Unknown call type.", errors={"call_type": [f"Unknown call type code {code!r}."]})
    return call_type


def _dispatch_fields(incident: Incident) -> dict[str, Any]:
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


def _emit(
    *,
    type: str,
    incident: Incident,
    assignment: Assignment | None = None,
    team_member_ids: set[int] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """One event to the board (dispatchers, supervisors) and, for an assignment, the team on shift.

    Payloads carry ids, statuses and dispatch fields only. The subject's name is added for roles
    that may see it: full-access roles, and an officer only while this is their current call.
    """
    members = team_member_ids or set()
    recipients = set(dispatcher_recipients()) | members
    base: dict[str, Any] = _dispatch_fields(incident)
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

    event_emit(type=type, recipients=recipients, data=payload)


def team_member_ids(assignment: Assignment) -> set[int]:
    return access.shift_member_ids(
        team_ids=[assignment.team_id], shift_ids=[assignment.shift_id] if assignment.shift_id else []
    )


# --- incidents --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentData:
    """Validated incident fields (from the API, the CAD mapper or the seeder)."""

    values: Mapping[str, Any]


def _validate_values(values: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    unknown = set(values) - set(EDITABLE_FIELDS)
    for name in sorted(unknown):
        errors[name] = ["Not an editable field."]
    priority = values.get("priority")
    if priority is not None and not (isinstance(priority, int) and 0 <= priority <= 10):
        errors["priority"] = ["Priority must be an integer 0–10."]
    lat, lon = values.get("latitude"), values.get("longitude")
    if lat is not None and not -90 <= float(lat) <= 90:
        errors["latitude"] = ["Latitude must be between -90 and 90."]
    if lon is not None and not -180 <= float(lon) <= 180:
        errors["longitude"] = ["Longitude must be between -180 and 180."]
    if "source" in values and values["source"] not in Incident.Source.values:
        errors["source"] = [f"Unknown source {values['source']!r}."]
    received = values.get("received_at")
    if received is not None and (not isinstance(received, dt.datetime) or received.tzinfo is None):
        errors["received_at"] = ["Must be a timezone-aware datetime."]
    elif received is not None and received > timezone.now() + CLOCK_SKEW:
        errors["received_at"] = ["A call cannot be received in the future."]
    dob = values.get("subject_dob")
    if dob is not None and dob > timezone.now().date():
        errors["subject_dob"] = ["Date of birth cannot be in the future."]
    if errors:
        raise Invalid("Invalid incident.", errors=errors)


@transaction.atomic
def incident_create(
    *,
    by: User,
    values: Mapping[str, Any],
    cad_source: str = "",
    cad_number: str = "",
    cad_updated_at: dt.datetime | None = None,
    strict_call_type: bool = True,
) -> Incident:
    return _incident_create(
        by=by,
        values=values,
        cad_source=cad_source,
        cad_number=cad_number,
        cad_updated_at=cad_updated_at,
        strict_call_type=strict_call_type,
    )


def _incident_create(
    *,
    by: User,
    values: Mapping[str, Any],
    cad_source: str,
    cad_number: str,
    cad_updated_at: dt.datetime | None,
    strict_call_type: bool,
) -> Incident:
    _validate_values(values)
    call_type = _resolve_call_type(str(values.get("call_type_code") or ""), strict=strict_call_type)
    fields = dict(values)
    if call_type is not None:
        fields["call_type_code"] = call_type.local_code
        fields.setdefault("behavioral_health", call_type.is_behavioral_health)
    incident = Incident(
        **fields,
        call_type=call_type,
        cad_source=cad_source,
        cad_number=cad_number,
        cad_updated_at=cad_updated_at,
        created_by=by,
    )
    # Field rules only: the constraints are checked above (ranges) and by the database (the CAD
    # number), where a concurrent creation surfaces as an IntegrityError, not a stale pre-check.
    # Field rules only: the ranges are checked above, and the CAD-number uniqueness by the database,
    # where a concurrent creation surfaces as an IntegrityError rather than a racy pre-check.
    incident.full_clean(
        exclude=["call_type", "triaged_by", "created_by"], validate_unique=False, validate_constraints=False
    )
    try:
        with transaction.atomic():
            incident.save()
    except IntegrityError as exc:
        raise Conflict("An incident with this CAD number already exists.", current={"cad_number": cad_number}) from exc
    _log(incident, kind=TimelineEntry.Kind.CREATED, actor=by, field="status", new=incident.status)
    _emit(type="incident.created", incident=incident)
    return incident


def _apply_changes(incident: Incident, *, values: Mapping[str, Any], by: User, kind: str, strict: bool) -> list[str]:
    """Set changed fields, one timeline entry each (old → new). Returns the changed field names."""
    _validate_values(values)
    changed: list[str] = []
    now = timezone.now()
    for name, new in values.items():
        old = getattr(incident, name)
        if name == "call_type_code":
            call_type = _resolve_call_type(str(new or ""), strict=strict)
            if call_type is not None:
                new = call_type.local_code
            if incident.call_type_id != (call_type.pk if call_type else None):
                incident.call_type = call_type
        if old == new:
            continue
        setattr(incident, name, new)
        changed.append(name)
        _log(incident, kind=kind, actor=by, field=name, old=old, new=new, at=now)
    if changed:
        incident.full_clean(
            exclude=["call_type", "triaged_by", "created_by"], validate_unique=False, validate_constraints=False
        )
        incident.save()
    return changed


@transaction.atomic
def incident_update(*, incident_id: int, by: User, values: Mapping[str, Any]) -> Incident:
    _require_dispatcher(by)
    incident = _lock_incident(incident_id)
    changed = _apply_changes(incident, values=values, by=by, kind=TimelineEntry.Kind.UPDATED, strict=True)
    if changed:
        active = _active_assignment(incident)
        _emit(
            type="incident.updated",
            incident=incident,
            assignment=active,
            team_member_ids=team_member_ids(active) if active else None,
            extra={"changed": changed},
        )
    return incident


@transaction.atomic
def incident_triage(
    *,
    incident_id: int,
    by: User,
    eligible: bool,
    eligibility_reason: str,
    outcome: str,
    not_served_reason: str = "",
    not_served_note: str = "",
) -> Incident:
    """Record (or re-record) triage. Re-classification keeps every old value in the timeline."""
    _require_dispatcher(by)
    errors: dict[str, list[str]] = {}
    if outcome not in Incident.TriageOutcome.values:
        errors["outcome"] = [f"Unknown outcome {outcome!r}."]
    if not eligibility_reason.strip():
        errors["eligibility_reason"] = ["Give the reason for the eligibility decision."]
    served = outcome == Incident.TriageOutcome.DISPATCH_CO_RESPONSE
    if not eligible and served:
        errors["outcome"] = ["A call that is not co-response eligible cannot be dispatched to co-response."]
    if eligible and not served:
        if not not_served_reason:
            errors["not_served_reason"] = ["An eligible call that is not served needs the reason why."]
        elif not_served_reason not in Incident.NotServedReason.values:
            errors["not_served_reason"] = [f"Unknown reason {not_served_reason!r}."]
        elif not_served_reason == Incident.NotServedReason.OTHER and not not_served_note.strip():
            errors["not_served_note"] = ["Describe the reason."]
    elif not_served_reason:
        errors["not_served_reason"] = ["Only an eligible call that is not served has a not-served reason."]
    if errors:
        raise Invalid("Invalid triage.", errors=errors)

    incident = _lock_incident(incident_id)
    if not incident.is_open:
        raise Conflict("The incident is closed.", current={"status": incident.status})
    now = timezone.now()
    new = {
        "coresponse_eligible": eligible,
        "eligibility_reason": eligibility_reason.strip(),
        "triage_outcome": outcome,
        "not_served_reason": not_served_reason,
        "not_served_note": not_served_note.strip(),
    }
    for name, value in new.items():
        old = getattr(incident, name)
        if old != value:
            _log(incident, kind=TimelineEntry.Kind.TRIAGED, actor=by, field=name, old=old, new=value, at=now)
            setattr(incident, name, value)
    incident.triaged_at = now
    incident.triaged_by = by
    incident.save()
    _emit(
        type="incident.triaged",
        incident=incident,
        extra={"coresponse_eligible": eligible, "triage_outcome": outcome, "not_served_reason": not_served_reason},
    )
    return incident


def _active_assignment(incident: Incident) -> Assignment | None:
    return Assignment.objects.select_related("team").filter(incident=incident, status__in=Assignment.ACTIVE).first()


def _set_incident_status(incident: Incident, status: str, *, by: User | None, assignment: Assignment) -> None:
    if incident.status == status:
        return
    old = incident.status
    incident.status = status
    update = ["status", "updated_at"]
    if status == IS.CLOSED:
        incident.closed_at = timezone.now()
        update.append("closed_at")
    incident.save(update_fields=update)
    _log(incident, kind=TimelineEntry.Kind.STATUS, actor=by, field="status", old=old, new=status, assignment=assignment)


# --- CAD intake -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CadResult:
    incident: Incident
    created: bool
    changed: list[str]
    stale: bool = False


def cad_incident_upsert(
    *,
    by: User,
    cad_source: str,
    cad_number: str,
    values: Mapping[str, Any],
    updated_at: dt.datetime | None,
) -> CadResult:
    """Create the incident for a CAD number, or apply the CAD's changes to it (idempotent).

    The same post twice changes nothing; an update lands field by field in the timeline; a post
    older than the last one applied (``lastUpdateTimeStamp``) is acknowledged and ignored.
    Two first posts racing: the unique constraint lets one create; the other retries as an update.
    """
    for _attempt in range(2):
        try:
            return _cad_upsert_once(
                by=by, cad_source=cad_source, cad_number=cad_number, values=values, updated_at=updated_at
            )
        except _CreatedConcurrently:
            continue
    raise Conflict("The incident was being created concurrently; retry.", current={"cad_number": cad_number})


class _CreatedConcurrently(Exception):
    pass


@transaction.atomic
def _cad_upsert_once(
    *,
    by: User,
    cad_source: str,
    cad_number: str,
    values: Mapping[str, Any],
    updated_at: dt.datetime | None,
) -> CadResult:
    incident = (
        Incident.objects.select_for_update(of=("self",))  # call_type is an outer join: lock the incident only
        .select_related("call_type")
        .filter(cad_source=cad_source, cad_number=cad_number)
        .first()
    )
    if incident is None:
        try:
            created = _incident_create(
                by=by,
                values=values,
                cad_source=cad_source,
                cad_number=cad_number,
                cad_updated_at=updated_at,
                strict_call_type=False,
            )
        except Conflict as exc:
            raise _CreatedConcurrently() from exc
        return CadResult(incident=created, created=True, changed=[])
    if updated_at is not None and incident.cad_updated_at is not None and updated_at < incident.cad_updated_at:
        return CadResult(incident=incident, created=False, changed=[], stale=True)
    # received_at belongs to the first post; later posts do not move it.
    updates = {k: v for k, v in values.items() if k != "received_at"}
    changed = _apply_changes(incident, values=updates, by=by, kind=TimelineEntry.Kind.CAD_UPDATE, strict=False)
    if updated_at is not None and updated_at != incident.cad_updated_at:
        Incident.objects.filter(pk=incident.pk).update(cad_updated_at=updated_at)
        incident.cad_updated_at = updated_at
    if changed:
        active = _active_assignment(incident)
        _emit(
            type="incident.updated",
            incident=incident,
            assignment=active,
            team_member_ids=team_member_ids(active) if active else None,
            extra={"changed": changed},
        )
    return CadResult(incident=incident, created=False, changed=changed)


# --- assignments ------------------------------------------------------------------------------------


def _current_state(assignment_id: int) -> dict[str, Any]:
    row = Assignment.objects.filter(pk=assignment_id).values("id", "status", "team__call_sign").first()
    if row is None:
        return {}
    return {"assignment_id": row["id"], "status": row["status"], "team_call_sign": row["team__call_sign"]}


def _assignment_state(incident: Incident) -> dict[str, Any]:
    active = _active_assignment(incident)
    state: dict[str, Any] = {"incident_id": incident.pk, "incident_status": incident.status}
    if active is not None:
        state |= {"assignment_id": active.pk, "status": active.status, "team_call_sign": active.team.call_sign}
    return state


def _transition(
    *,
    assignment_id: int,
    to: str,
    by: User | None,
    reason: str = "",
    actor_must_be_on_team: bool = True,
    dispatcher_may_act: bool = False,
) -> Assignment:
    """Move one assignment to ``to`` if its current status allows it; else Conflict with the current state."""
    incident_id = Assignment.objects.filter(pk=assignment_id).values_list("incident_id", flat=True).first()
    if incident_id is None:
        raise NotFound("Assignment not found.")
    incident = _lock_incident(incident_id)
    assignment = Assignment.objects.select_related("team").get(pk=assignment_id)
    members = team_member_ids(assignment)
    allowed_dispatcher = dispatcher_may_act and by is not None and by.has_role(*access.DISPATCH_ROLES)
    if by is not None and actor_must_be_on_team and by.pk not in members and not allowed_dispatcher:
        raise PermissionDenied("Only the team on shift can do this.")
    now = timezone.now()
    changes: dict[str, Any] = {"status": to, STAMP[to]: now, "updated_at": now}
    if to == S.ACCEPTED:
        changes["accepted_by"] = by
    elif to == S.ACKNOWLEDGED:
        changes["acknowledged_by"] = by
    elif to in ENDED:
        changes |= {"ended_by": by, "end_reason": reason}
    # The conditional UPDATE is the guard: of two devices accepting at once exactly one matches.
    updated = Assignment.objects.filter(pk=assignment_id, status__in=TRANSITIONS[to]).update(**changes)
    if not updated:
        current = _current_state(assignment_id)
        raise Conflict(
            f"Cannot change the assignment to {to}: it is {current.get('status')}.",
            current=current,
        )
    old = assignment.status
    assignment.refresh_from_db()
    _log(
        incident,
        kind=TimelineEntry.Kind.ASSIGNMENT,
        actor=by,
        field=f"assignment.{assignment.team.call_sign}",
        old=old,
        new=to + (f" ({reason})" if reason else ""),
        assignment=assignment,
        at=now,
    )
    if to in INCIDENT_STATUS_FOR:
        _set_incident_status(incident, INCIDENT_STATUS_FOR[to], by=by, assignment=assignment)
    elif to in ENDED and incident.status in (IS.RESOURCES_ASSIGNED, IS.RESOURCES_ENROUTE, IS.RESOURCES_ONSCENE):
        _set_incident_status(incident, IS.ACTIVE, by=by, assignment=assignment)
    event_type = EVENT_FOR.get(to, "assignment.status")
    _emit(
        type=event_type,
        incident=incident,
        assignment=assignment,
        team_member_ids=members,
        extra={"reason": reason} if reason else None,
    )
    return assignment


def _offer(*, incident: Incident, team: Team, by: User) -> Assignment:
    if not incident.is_open:
        raise Conflict("The incident is closed.", current=_assignment_state(incident))
    if not team.is_active:
        raise Invalid("Team is not active.", errors={"team": [f"Team {team.call_sign} is not active."]})
    duty = next(iter(team_availability(team_ids=[team.pk])), None)
    if duty is None:
        raise Invalid("Team is not on duty.", errors={"team": [f"Team {team.call_sign} is not on duty now."]})
    active = _active_assignment(incident)
    if active is not None:
        raise Conflict(
            f"The incident is already assigned to {active.team.call_sign} ({active.status}).",
            current=_assignment_state(incident),
        )
    if duty.status == TeamStatus.NOT_AVAILABLE:
        raise Conflict(
            f"Team {team.call_sign} is busy on another call.", current={"team": team.call_sign, "status": duty.status}
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                incident=incident, team=team, shift=duty.shift, offered_by=by, offered_at=now
            )
    except IntegrityError as exc:  # the partial unique index: someone else assigned it meanwhile
        raise Conflict("The incident is already assigned.", current=_assignment_state(incident)) from exc
    _log(
        incident,
        kind=TimelineEntry.Kind.ASSIGNMENT,
        actor=by,
        field=f"assignment.{team.call_sign}",
        new=S.OFFERED,
        assignment=assignment,
        at=now,
    )
    _emit(
        type="assignment.offered", incident=incident, assignment=assignment, team_member_ids=team_member_ids(assignment)
    )
    return assignment


@transaction.atomic
def assignment_offer(*, incident_id: int, team_id: int, by: User) -> Assignment:
    _require_dispatcher(by)
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise Invalid("Unknown team.", errors={"team": [f"No team with id {team_id}."]})
    incident = _lock_incident(incident_id)
    return _offer(incident=incident, team=team, by=by)


@transaction.atomic
def assignment_reassign(*, incident_id: int, team_id: int, by: User, reason: str) -> Assignment:
    """Cancel the active assignment (kept in history) and offer the incident to another team."""
    _require_dispatcher(by)
    if not reason.strip():
        raise Invalid("Give a reason for the reassignment.", errors={"reason": ["This field is required."]})
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise Invalid("Unknown team.", errors={"team": [f"No team with id {team_id}."]})
    incident = _lock_incident(incident_id)
    active = _active_assignment(incident)
    if active is not None:
        if active.team_id == team.pk:
            raise Conflict("The incident is already with this team.", current=_assignment_state(incident))
        _transition(assignment_id=active.pk, to=S.CANCELLED, by=by, reason=f"reassigned: {reason.strip()}",
                    actor_must_be_on_team=False)  # fmt: skip
        incident.refresh_from_db()
    return _offer(incident=incident, team=team, by=by)


@transaction.atomic
def assignment_acknowledge(*, assignment_id: int, by: User) -> Assignment:
    """A device of the team has the offer on screen. A second device acknowledging is a no-op."""
    current = Assignment.objects.filter(pk=assignment_id).values_list("status", flat=True).first()
    if current == S.ACKNOWLEDGED:
        assignment = Assignment.objects.select_related("team").get(pk=assignment_id)
        if by.pk not in team_member_ids(assignment):
            raise PermissionDenied("Only the team on shift can do this.")
        return assignment
    return _transition(assignment_id=assignment_id, to=S.ACKNOWLEDGED, by=by)


@transaction.atomic
def assignment_accept(*, assignment_id: int, by: User) -> Assignment:
    return _transition(assignment_id=assignment_id, to=S.ACCEPTED, by=by)


@transaction.atomic
def assignment_decline(*, assignment_id: int, by: User, reason: str) -> Assignment:
    if not reason.strip():
        raise Invalid("A decline needs a reason.", errors={"reason": ["This field is required."]})
    return _transition(assignment_id=assignment_id, to=S.DECLINED, by=by, reason=reason.strip())


@transaction.atomic
def assignment_status_update(*, assignment_id: int, by: User, status: str) -> Assignment:
    """En route, on scene, transporting, at facility, cleared: set by one member, applies to the pair."""
    if status not in FIELD_STATUSES:
        raise Invalid(
            "Unknown status.", errors={"status": [f"Must be one of: {', '.join(str(s) for s in FIELD_STATUSES)}."]}
        )
    return _transition(assignment_id=assignment_id, to=status, by=by, dispatcher_may_act=True)


@transaction.atomic
def assignment_cancel(*, assignment_id: int, by: User, reason: str) -> Assignment:
    _require_dispatcher(by)
    if not reason.strip():
        raise Invalid("A cancellation needs a reason.", errors={"reason": ["This field is required."]})
    return _transition(
        assignment_id=assignment_id, to=S.CANCELLED, by=by, reason=reason.strip(), actor_must_be_on_team=False
    )


@transaction.atomic
def assignment_expire(*, assignment_id: int) -> Assignment:
    """Called by the delivery timer (not built here) when nobody answered the offer in time."""
    return _transition(
        assignment_id=assignment_id, to=S.EXPIRED, by=None, reason="no answer", actor_must_be_on_team=False
    )
