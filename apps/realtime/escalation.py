"""Delivery escalation, keyed by a subject string such as ``assignment:42``.

Lifecycle (durations are settings, see docs/realtime.md):

* ``escalation_start`` — in the transaction that offers the subject, with the offer event's uid
  and the people it was offered to;
* a device reports the offer event *seen* → ``acknowledged_at`` (stops push and alert);
* ``escalation_resolve`` — accepted, declined, cancelled, expired … (stops everything);
* ``escalation_sweep`` (Celery beat, every ``REALTIME_ESCALATION_SWEEP_SECONDS``) fires due stages:
  ``push`` (Web Push to every subscribed device of the recipients), ``alert`` (a ``delivery.alert``
  event to the dispatchers), ``reassign`` (a ``delivery.reassign`` event to the dispatchers: the
  subject is flagged for reassignment; the dispatcher decides).

Each stage is claimed with ``UPDATE ... SET <stage>_fired_at = now WHERE <stage>_fired_at IS NULL
AND <still due>``; only the process whose update matched a row acts, so two workers, two beats or a
restart fire a stage once. The claim commits before the side effect (push is network I/O and must
not hold a lock), so a crash between the two loses that one stage (at most once); the next stage
still fires, which is why alert and reassign exist.

Subject kinds register hooks with ``register_subject`` at their app's ready (assignments:
apps/incidents/delivery.py). The owner starts and resolves its subjects itself; nothing here looks
for subjects it was not told about.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User

from .models import Escalation
from .push import push_send_to_users
from .services import dispatcher_recipients, event_emit

log = logging.getLogger(__name__)


class SubjectState:
    PENDING = "pending"  # offered, nobody has seen it
    ACKNOWLEDGED = "acknowledged"  # seen on a device, not yet accepted
    CLOSED = "closed"  # accepted, declined, cancelled, expired ...: nothing more to escalate


@dataclass(frozen=True)
class SubjectHooks:
    """Optional callbacks of one subject kind; ids are the part after ``kind:``.

    They run outside any transaction of ours (each hook opens its own).
    """

    state: Callable[[str], str] | None = None  # a SubjectState value
    on_acknowledged: Callable[[str, int], None] | None = None  # (id, user_id): first device saw it
    url: Callable[[str], str] | None = None  # where the push notification's "Open" lands in the app


_hooks: dict[str, SubjectHooks] = {}


def register_subject(kind: str, hooks: SubjectHooks) -> None:
    _hooks[kind] = hooks


def _split(subject: str) -> tuple[str, str]:
    kind, _, ident = subject.partition(":")
    return kind, ident


def _hooks_of(subject: str) -> tuple[SubjectHooks, str]:
    kind, ident = _split(subject)
    return _hooks.get(kind, SubjectHooks()), ident


def escalation_start(
    *,
    subject: str,
    event_uid: uuid.UUID,
    recipients: Iterable[User | int],
    team_label: str = "",
    at: dt.datetime | None = None,
    restart: bool = True,
) -> Escalation:
    """Start the clock for ``subject``, offered by event ``event_uid`` to ``recipients``.

    Call inside the offering transaction, after ``event_emit`` (use ``events[0].uid``). Re-offering the
    same subject restarts its clock (a new offer event, new stages).
    """
    at = at or timezone.now()
    fields: dict[str, Any] = {
        "event_uid": event_uid,
        "team_label": team_label[:40],
        "created_at": at,
        "push_due_at": at + dt.timedelta(seconds=settings.REALTIME_ESCALATION_PUSH_AFTER_SECONDS),
        "alert_due_at": at + dt.timedelta(seconds=settings.REALTIME_ESCALATION_ALERT_AFTER_SECONDS),
        "reassign_due_at": at + dt.timedelta(seconds=settings.REALTIME_ESCALATION_REASSIGN_AFTER_SECONDS),
        "delivered_at": None,
        "acknowledged_at": None,
        "resolved_at": None,
        "resolution": "",
        "push_fired_at": None,
        "alert_fired_at": None,
        "reassign_fired_at": None,
    }
    if restart:
        escalation, _ = Escalation.objects.update_or_create(subject=subject, defaults=fields)
    else:
        escalation = Escalation.objects.create(subject=subject, **fields)
    escalation.recipients.set([r if isinstance(r, int) else r.pk for r in recipients])
    return escalation


def escalation_resolve(*, subject: str, resolution: str, at: dt.datetime | None = None) -> bool:
    """Stop every pending stage of ``subject`` (accepted, declined, cancelled, reassigned ...)."""
    updated = Escalation.objects.filter(subject=subject, resolved_at__isnull=True).update(
        resolved_at=at or timezone.now(), resolution=resolution[:32]
    )
    return bool(updated)


def escalation_for_event(event_uid: uuid.UUID) -> Escalation | None:
    return Escalation.objects.filter(event_uid=event_uid).first()


def escalation_is_recipient(escalation: Escalation, user_id: int) -> bool:
    return escalation.recipients.filter(pk=user_id).exists()


def escalation_on_receipt(*, escalation: Escalation, stage: str, at: dt.datetime) -> bool:
    """Called by ``receipt_record`` inside its transaction; True when this is the first *seen*."""
    Escalation.objects.filter(pk=escalation.pk, delivered_at__isnull=True).update(delivered_at=at)
    if stage != "seen":
        return False
    return bool(Escalation.objects.filter(pk=escalation.pk, acknowledged_at__isnull=True).update(acknowledged_at=at))


def escalation_acknowledged_hook(*, subject: str, user_id: int) -> None:
    """After the receipt committed: tell the subject's owner (e.g. assignment → acknowledged)."""
    hooks, ident = _hooks_of(subject)
    if hooks.on_acknowledged is None:
        return
    try:
        hooks.on_acknowledged(ident, user_id)
    except Exception:
        # The receipt is committed and stays; the owner's hook handles the refusals it expects (an
        # offer already answered) itself, so what arrives here is a bug: logged loudly, never a 500.
        log.exception("acknowledge hook of %s failed", subject)


# --- the sweep --------------------------------------------------------------------------------------

PENDING = {
    "push": Q(push_fired_at__isnull=True, acknowledged_at__isnull=True, resolved_at__isnull=True),
    "alert": Q(alert_fired_at__isnull=True, acknowledged_at__isnull=True, resolved_at__isnull=True),
    "reassign": Q(reassign_fired_at__isnull=True, resolved_at__isnull=True),
}


def _push_payload(escalation: Escalation) -> dict[str, str]:
    # Generic text only: a lock screen is not a private place (no address, no call type, no names).
    hooks, ident = _hooks_of(escalation.subject)
    return {
        "title": "Co-Response: new assignment",
        "body": "Open the app to respond.",
        "url": hooks.url(ident) if hooks.url is not None else "/",
        "tag": escalation.subject,
    }


def _claim(stage: str, escalation_id: int, now: dt.datetime) -> bool:
    return bool(
        Escalation.objects.filter(PENDING[stage], pk=escalation_id, **{f"{stage}_due_at__lte": now}).update(
            **{f"{stage}_fired_at": now}
        )
    )


def _still_open(escalation: Escalation, now: dt.datetime) -> bool:
    """Ask the subject's owner: closed → resolve; acknowledged elsewhere (REST) → stop push/alert."""
    hooks, ident = _hooks_of(escalation.subject)
    state = hooks.state(ident) if hooks.state is not None else SubjectState.PENDING
    if state == SubjectState.CLOSED:
        escalation_resolve(subject=escalation.subject, resolution="closed", at=now)
        return False
    if state == SubjectState.ACKNOWLEDGED:
        Escalation.objects.filter(pk=escalation.pk, acknowledged_at__isnull=True).update(acknowledged_at=now)
    return True


def _dispatcher_frame(escalation: Escalation, stage: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "subject": escalation.subject,
        "team": escalation.team_label,
        "stage": stage,
        "offered_at": escalation.created_at.isoformat(),
        "delivered": escalation.delivered_at is not None,
        "fired_at": now.isoformat(),
    }


def escalation_sweep(*, now: dt.datetime | None = None, batch: int = 200) -> dict[str, int]:
    """Fire every due stage once. Safe to run concurrently and repeatedly. Returns counts fired."""
    now = now or timezone.now()
    fired = {"push": 0, "alert": 0, "reassign": 0}
    for stage in ("push", "alert", "reassign"):
        due = list(
            Escalation.objects.filter(PENDING[stage], **{f"{stage}_due_at__lte": now})
            .order_by(f"{stage}_due_at")
            .values_list("pk", flat=True)[:batch]
        )
        for escalation_id in due:
            escalation = Escalation.objects.filter(pk=escalation_id).first()
            if escalation is None or not _still_open(escalation, now):
                continue
            recipients = list(escalation.recipients.values_list("pk", flat=True))
            with transaction.atomic():
                if not _claim(stage, escalation_id, now):
                    continue  # another worker fired it, or it was acknowledged / resolved meanwhile
                fired[stage] += 1
                frame = _dispatcher_frame(escalation, stage, now)
                if stage == "push":
                    frame["recipients"] = recipients
                    event_emit(type="delivery.escalated", recipients=dispatcher_recipients(), data=frame)
                elif stage == "alert":
                    event_emit(type="delivery.alert", recipients=dispatcher_recipients(), data=frame)
                else:
                    event_emit(type="delivery.reassign", recipients=dispatcher_recipients(), data=frame)
            if stage == "push":
                # After the claim committed: network I/O never runs under a lock or inside the txn.
                try:
                    result = push_send_to_users(recipients, _push_payload(escalation))
                    log.info("escalation %s pushed: %s", escalation.subject, result)
                except Exception:
                    log.exception("escalation push of %s failed", escalation.subject)
    return fired
