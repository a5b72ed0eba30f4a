"""What apps.realtime's escalation asks about an offer (subject ``assignment:<id>``), registered at
this app's ready (realtime knows nothing of incidents).

The offer itself starts the escalation inside its transaction, and accept, decline, cancel and
expire resolve it (services/assignments.py). These hooks answer the rest:

- ``state``: before each stage the sweep asks whether the offer is still open (it may have been
  acknowledged through the REST API, which stops the push and the alert);
- ``on_acknowledged``: a team device reported the offer *seen* → the assignment is acknowledged;
- ``url``: where the push notification's "Open" lands in the app.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied

from apps.accounts.models import User
from apps.core.errors import Conflict
from apps.realtime.escalation import SubjectHooks, SubjectState, register_subject

from .models import Assignment
from .services import ESCALATION_KIND, assignment_acknowledge

log = logging.getLogger(__name__)


def offer_state(ident: str) -> str:
    status = Assignment.objects.filter(pk=int(ident)).values_list("status", flat=True).first()
    if status == Assignment.Status.OFFERED:
        return SubjectState.PENDING
    if status == Assignment.Status.ACKNOWLEDGED:
        return SubjectState.ACKNOWLEDGED
    return SubjectState.CLOSED


def offer_seen(ident: str, user_id: int) -> None:
    """The first *seen* receipt of a team device acknowledges the offer (after the receipt committed)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    try:
        assignment_acknowledge(assignment_id=int(ident), by=user)
    except (Conflict, PermissionDenied) as exc:
        # Answered (accepted, declined, cancelled, expired) before the receipt arrived, or the
        # person is no longer on the team's shift: the receipt stays, the assignment does not move.
        log.info("offer %s seen by %s not acknowledged: %s", ident, user_id, exc)


def offer_url(ident: str) -> str:
    # The team home shows the offered assignment full screen ("Open" lands on it).
    return f"/team?assignment={ident}"


def register() -> None:
    register_subject(ESCALATION_KIND, SubjectHooks(state=offer_state, on_acknowledged=offer_seen, url=offer_url))
