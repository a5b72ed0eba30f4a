"""Assignments: the lifecycle (offer, acknowledge, accept, decline, status, cancel, expire), in one
place. ``grep -n "def assignment_" apps/incidents/services/assignments.py`` lists every way an
assignment can change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import Conflict, Invalid, NotFound
from apps.realtime.escalation import escalation_resolve, escalation_start
from apps.teams.models import Team

from .. import access
from ..labels import assignment_status_label
from ..models import Assignment, Incident, TimelineEntry, UnassignedAlert
from ..selectors import TeamStatus, team_availability
from .common import active_assignment, emit, lock_incident, require_dispatcher, team_member_ids, timeline_log
from .unassigned import unassigned_alert_clear

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
# Leaving these stops the offer's delivery escalation (apps.realtime.escalation).
RESOLVES_DELIVERY = (S.ACCEPTED, S.DECLINED, S.EXPIRED, S.CANCELLED)
ESCALATION_KIND = "assignment"  # escalation subjects are "assignment:<id>"
# Event type per transition; the field statuses (en route … cleared) are all "assignment.status".
EVENT_FOR: dict[str, str] = {
    S.ACKNOWLEDGED: "assignment.acknowledged",
    S.ACCEPTED: "assignment.accepted",
    S.DECLINED: "assignment.declined",
    S.EXPIRED: "assignment.expired",
    S.CANCELLED: "assignment.cancelled",
}


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
    timeline_log(
        incident, kind=TimelineEntry.Kind.STATUS, actor=by, field="status", old=old, new=status, assignment=assignment
    )


def escalation_subject(assignment_id: int) -> str:
    return f"{ESCALATION_KIND}:{assignment_id}"


def _current_state(assignment_id: int) -> dict[str, Any]:
    row = Assignment.objects.filter(pk=assignment_id).values("id", "status", "team__call_sign").first()
    if row is None:
        return {}
    return {"assignment_id": row["id"], "status": row["status"], "team_call_sign": row["team__call_sign"]}


def _assignment_state(incident: Incident) -> dict[str, Any]:
    active = active_assignment(incident)
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
    only_if: Q | None = None,
) -> Assignment:
    """Move one assignment to ``to`` if its current status allows it (and ``only_if`` holds); else
    Conflict with the current state."""
    incident_id = Assignment.objects.filter(pk=assignment_id).values_list("incident_id", flat=True).first()
    if incident_id is None:
        raise NotFound("Assignment not found.")
    incident = lock_incident(incident_id)
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
    claim = Assignment.objects.filter(pk=assignment_id, status__in=TRANSITIONS[to])
    updated = (claim.filter(only_if) if only_if is not None else claim).update(**changes)
    if not updated:
        current = _current_state(assignment_id)
        target = assignment_status_label(to)
        if current.get("status") in TRANSITIONS[to]:
            raise Conflict(f"The assignment cannot be set to {target} yet.", current=current)
        raise Conflict(
            f"Cannot set the assignment to {target}: it is {assignment_status_label(str(current.get('status')))}.",
            current=current,
        )
    old = assignment.status
    assignment.refresh_from_db()
    timeline_log(
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
    if to in RESOLVES_DELIVERY:
        escalation_resolve(subject=escalation_subject(assignment.pk), resolution=to, at=now)
    event_type = EVENT_FOR.get(to, "assignment.status")
    emit(
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
    active = active_assignment(incident)
    if active is not None:
        raise Conflict(
            f"The incident is already assigned to {active.team.call_sign} ({assignment_status_label(active.status)}).",
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
    # The call is no longer waiting for a team: its unassigned alert, if raised, clears with the offer.
    unassigned_alert_clear(incident, reason=UnassignedAlert.Cleared.OFFERED, now=now)
    timeline_log(
        incident,
        kind=TimelineEntry.Kind.ASSIGNMENT,
        actor=by,
        field=f"assignment.{team.call_sign}",
        new=S.OFFERED,
        assignment=assignment,
        at=now,
    )
    members = team_member_ids(assignment)
    events = emit(type="assignment.offered", incident=incident, assignment=assignment, team_member_ids=members)
    # The delivery clock (push, alert, reassign; apps.realtime.escalation) starts in this transaction,
    # for the offer event as the team got it. Nobody on the team to deliver to: nothing to escalate.
    offered_event = next((e for e in events if e.user_id in members), None)
    if offered_event is not None:
        escalation_start(
            subject=escalation_subject(assignment.pk),
            event_uid=offered_event.uid,
            recipients=sorted(members),
            team_label=team.call_sign,
            at=now,
        )
    return assignment


@transaction.atomic
def assignment_offer(*, incident_id: int, team_id: int, by: User) -> Assignment:
    require_dispatcher(by)
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise Invalid("Unknown team.", errors={"team": [f"No team with id {team_id}."]})
    incident = lock_incident(incident_id)
    return _offer(incident=incident, team=team, by=by)


@transaction.atomic
def assignment_reassign(*, incident_id: int, team_id: int, by: User, reason: str) -> Assignment:
    """Cancel the active assignment (kept in history) and offer the incident to another team."""
    require_dispatcher(by)
    if not reason.strip():
        raise Invalid("Give a reason for the reassignment.", errors={"reason": ["This field is required."]})
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise Invalid("Unknown team.", errors={"team": [f"No team with id {team_id}."]})
    incident = lock_incident(incident_id)
    active = active_assignment(incident)
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
    require_dispatcher(by)
    if not reason.strip():
        raise Invalid("A cancellation needs a reason.", errors={"reason": ["This field is required."]})
    return _transition(
        assignment_id=assignment_id, to=S.CANCELLED, by=by, reason=reason.strip(), actor_must_be_on_team=False
    )


def offer_expiry_cutoff(now: dt.datetime) -> dt.datetime:
    """Offers made at or before this moment are past their deadline."""
    return now - dt.timedelta(seconds=settings.INCIDENTS_OFFER_EXPIRE_SECONDS)


@transaction.atomic
def assignment_expire(*, assignment_id: int, now: dt.datetime | None = None) -> Assignment:
    """Nobody accepted the offer within ``INCIDENTS_OFFER_EXPIRE_SECONDS``: it expires (the incident
    is back to Active, the team and the board get ``assignment.expired``, the escalation stops).

    The conditional UPDATE claims it (still offered or acknowledged, offered before the deadline):
    of two sweepers, or a sweeper and an accept, exactly one wins; the other gets a Conflict.
    """
    cutoff = offer_expiry_cutoff(now or timezone.now())
    return _transition(
        assignment_id=assignment_id,
        to=S.EXPIRED,
        by=None,
        reason="no answer",
        actor_must_be_on_team=False,
        only_if=Q(offered_at__lte=cutoff),
    )


def assignments_expire_due(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """The offer timer (Celery beat, every ``INCIDENTS_OFFER_EXPIRE_SWEEP_SECONDS``): expire every
    offer past its deadline, oldest first, each in its own transaction. Returns how many this call
    expired. Safe to run concurrently and repeatedly: each offer expires exactly once."""
    now = now or timezone.now()
    due = list(
        Assignment.objects.filter(status__in=TRANSITIONS[S.EXPIRED], offered_at__lte=offer_expiry_cutoff(now))
        .order_by("offered_at", "id")
        .values_list("pk", flat=True)[:batch]
    )
    expired = 0
    for assignment_id in due:
        try:
            assignment_expire(assignment_id=assignment_id, now=now)
        except Conflict:
            # Lost the claim: another sweeper expired it, or the team answered since the read above.
            continue
        expired += 1
    return expired
