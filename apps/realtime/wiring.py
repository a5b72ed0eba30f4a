"""Escalation hooks for incident assignments (subject ``assignment:<id>``).

The incidents app does not need to call us: the sweep discovers offered assignments (their
``assignment.offered`` event gives the event uid), asks their status before each stage, and a first
"seen" on a team device calls ``assignment_acknowledge``. Calling ``escalation_start`` from the offer
(inside its transaction) as well is fine and saves up to one sweep interval.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.utils import timezone

from .escalation import NewSubject, SubjectHooks, SubjectState, register_subject

log = logging.getLogger(__name__)

# Only offers this recent are discovered: older ones are the dispatcher's business already.
DISCOVER_WINDOW = dt.timedelta(minutes=10)


def _state(ident: str) -> str:
    from apps.incidents.models import Assignment

    status = Assignment.objects.filter(pk=int(ident)).values_list("status", flat=True).first()
    if status == Assignment.Status.OFFERED:
        return SubjectState.PENDING
    if status == Assignment.Status.ACKNOWLEDGED:
        return SubjectState.ACKNOWLEDGED
    return SubjectState.CLOSED


def _acknowledge(ident: str, user_id: int) -> None:
    from apps.accounts.models import User
    from apps.incidents.models import Assignment
    from apps.incidents.services import assignment_acknowledge

    if not Assignment.objects.filter(pk=int(ident), status=Assignment.Status.OFFERED).exists():
        return
    assignment_acknowledge(assignment_id=int(ident), by=User.objects.get(pk=user_id))


def _discover() -> list[NewSubject]:
    from apps.incidents.models import Assignment
    from apps.incidents.services import team_member_ids

    from .models import Escalation, Event

    since = timezone.now() - DISCOVER_WINDOW
    started = Escalation.objects.filter(subject__startswith="assignment:").values_list("subject", flat=True)
    found = []
    pending = (
        Assignment.objects.filter(status=Assignment.Status.OFFERED, offered_at__gte=since)
        .select_related("team")
        .order_by("offered_at")
    )
    known = set(started.filter(created_at__gte=since - DISCOVER_WINDOW))
    for assignment in pending[:200]:
        subject = f"assignment:{assignment.pk}"
        if subject in known:
            continue
        members = sorted(team_member_ids(assignment))
        uid = (
            Event.objects.filter(type="assignment.offered", user_id__in=members, data__assignment_id=assignment.pk)
            .values_list("uid", flat=True)
            .first()
        )
        if uid is None:
            continue  # not emitted to a team member (nobody on shift): nothing to deliver to
        found.append(
            NewSubject(
                subject=subject,
                event_uid=uuid.UUID(str(uid)),
                recipients=members,
                team_label=assignment.team.call_sign,
                offered_at=assignment.offered_at,
            )
        )
    return found


def register() -> None:
    register_subject(
        "assignment",
        SubjectHooks(
            state=_state,
            on_acknowledged=_acknowledge,
            discover=_discover,
            # The team home shows the offered assignment full screen ("Open" lands on it).
            url=lambda ident: f"/team?assignment={ident}",
        ),
    )
