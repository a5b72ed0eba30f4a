"""Unassigned-call alerts: a call eligible for co-response that nobody offered in time.

The wait allowed depends on the priority (``INCIDENTS_UNASSIGNED_ALERT_SECONDS``). The beat sweep
(``incidents.unassigned_alerts_raise``, every ``INCIDENTS_UNASSIGNED_SWEEP_SECONDS``) raises each
alert once per wait, through the event log (``incident.unassigned`` to the dispatchers and
supervisors); the offer (or a triage that takes the call away from co-response) clears it
(``incident.unassigned_cleared``), in the same transaction as the change that ends the wait.

Exactly once: the sweep locks the incident row, re-checks, and inserts the alert row whose unique
(incident, waiting_since) is the claim; the event is written in that transaction. A second sweeper
waits for the lock, then finds the row and writes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from ..models import Assignment, Incident, UnassignedAlert
from .common import active_assignment, emit, lock_incident

IS = Incident.Status


def unassigned_threshold(priority: int) -> float:
    """Seconds a call of ``priority`` may wait: the entry with the highest priority at or below it."""
    table: dict[int, float] = settings.INCIDENTS_UNASSIGNED_ALERT_SECONDS
    return next(seconds for level, seconds in sorted(table.items(), reverse=True) if priority >= level)


def _waiting() -> QuerySet[Incident]:
    """Open calls meant for co-response (not triaged away) with no active assignment."""
    return (
        Incident.objects.filter(status__in=Incident.OPEN_STATUSES, behavioral_health=True)
        .exclude(coresponse_eligible=False)
        .filter(triage_outcome__in=["", Incident.TriageOutcome.DISPATCH_CO_RESPONSE])
        .exclude(id__in=Assignment.objects.filter(status__in=Assignment.ACTIVE).values("incident_id"))
    )


def _waiting_since(incident: Incident, last_end: dt.datetime | None) -> dt.datetime:
    return max(incident.received_at, last_end) if last_end else incident.received_at


def unassigned_alerts_raise(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """Raise an alert for each call that has waited longer than its priority allows (oldest first).
    Returns how many this call raised. Safe to run concurrently and repeatedly."""
    now = now or timezone.now()
    candidates = (
        _waiting()
        .annotate(last_end=Max("assignments__ended_at"))
        .exclude(id__in=UnassignedAlert.objects.filter(cleared_at__isnull=True).values("incident_id"))
        .order_by("received_at", "id")
    )
    raised = 0
    for incident in candidates[: batch * 5]:
        since = _waiting_since(incident, incident.last_end)
        if (now - since).total_seconds() < unassigned_threshold(incident.priority):
            continue
        if unassigned_alert_raise(incident_id=incident.pk, now=now):
            raised += 1
            if raised >= batch:
                break
    return raised


@transaction.atomic
def unassigned_alert_raise(*, incident_id: int, now: dt.datetime | None = None) -> UnassignedAlert | None:
    """Raise the alert of one call if it is still waiting past its time and not yet alerted for this
    wait; None when not (offered meanwhile, triaged away, already raised by another sweeper)."""
    now = now or timezone.now()
    incident = lock_incident(incident_id)
    row = _waiting().filter(pk=incident_id).annotate(last_end=Max("assignments__ended_at")).first()
    if row is None or active_assignment(incident) is not None:
        return None
    since = _waiting_since(row, row.last_end)
    threshold = unassigned_threshold(incident.priority)
    if (now - since).total_seconds() < threshold:
        return None
    if UnassignedAlert.objects.filter(incident=incident, waiting_since=since).exists():
        return None
    try:
        with transaction.atomic():
            alert = UnassignedAlert.objects.create(
                incident=incident,
                waiting_since=since,
                priority=incident.priority,
                threshold_seconds=int(threshold),
                raised_at=now,
            )
    except IntegrityError:  # another sweeper's row (only without the row lock, e.g. SQLite)
        return None
    emit(
        type="incident.unassigned",
        incident=incident,
        extra={
            "waiting_since": since.isoformat(),
            "threshold_seconds": int(threshold),
            "raised_at": now.isoformat(),
        },
    )
    return alert


def unassigned_alert_clear(incident: Incident, *, reason: str, now: dt.datetime | None = None) -> int:
    """Clear the call's open alert, if any (inside the caller's transaction, which holds the incident
    row lock): the offer, or a triage that takes the call away from co-response."""
    now = now or timezone.now()
    cleared = UnassignedAlert.objects.filter(Q(incident=incident), Q(cleared_at__isnull=True)).update(
        cleared_at=now, cleared_reason=reason
    )
    if cleared:
        emit(
            type="incident.unassigned_cleared",
            incident=incident,
            extra={"reason": reason, "cleared_at": now.isoformat()},
        )
    return cleared
