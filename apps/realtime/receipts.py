"""Delivery receipts: a device got (``delivered``) or showed (``seen``) an event that takes receipts.

Above services.py and escalation.py (it uses both: the receipt tells the dispatchers and may
acknowledge an offer's escalation); neither imports it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import Invalid, NotFound

from . import escalation
from .models import Device, Event, Receipt
from .services import dispatcher_recipients, event_emit


class Stage:
    DELIVERED = "delivered"
    SEEN = "seen"


def receipt_event_types() -> frozenset[str]:
    return frozenset(settings.REALTIME_RECEIPT_EVENT_TYPES)


def receipt_record(
    *, user: User | int, device_id: uuid.UUID, stage: str, cursor: int | None = None, event_uid: uuid.UUID | None = None
) -> Receipt | None:
    """Record that ``device_id`` of ``user`` got (``delivered``) or showed (``seen``) an event.

    The event is named by the user's stream ``cursor`` or by its ``event_uid`` (with both, the id wins
    and the cursor is only a fast path: after a stream reset a cursor may name another event). Writing
    a stage again changes nothing and emits nothing, so a client may resend until confirmed. Only event types in
    ``REALTIME_RECEIPT_EVENT_TYPES`` take receipts (returns None for others). Each stage is written
    once (a conditional update); on a change the dispatchers get a ``delivery.updated`` event and a
    first ``seen`` acknowledges the offer's escalation (see escalation.py).
    """
    if stage not in (Stage.DELIVERED, Stage.SEEN):
        raise Invalid("Unknown receipt stage.", errors={"stage": [f"Must be {Stage.DELIVERED} or {Stage.SEEN}."]})
    user_id = user if isinstance(user, int) else user.pk
    events = Event.objects.filter(user_id=user_id)
    if cursor is not None:
        event = events.filter(seq=cursor).first()
        if event_uid is not None and (event is None or event.uid != event_uid):
            event = events.filter(uid=event_uid).first()
    elif event_uid is not None:
        event = events.filter(uid=event_uid).first()
    else:
        raise Invalid("Name the event.", errors={"cursor": ["Give cursor or id."]})
    if event is None:
        raise NotFound("No such event in your stream.")
    if event.type not in receipt_event_types():
        return None
    device = Device.objects.filter(pk=device_id, user_id=user_id, revoked_at__isnull=True).first()
    if device is None:
        raise NotFound("Unknown device: say hello with it first.", errors={"device": ["Not registered."]})

    found = escalation.escalation_for_event(event.uid)
    if found is not None and not escalation.escalation_is_recipient(found, user_id):
        return None  # e.g. a dispatcher's board also shows the offer: not a delivery to the team

    now = timezone.now()
    with transaction.atomic():
        receipt, _ = Receipt.objects.get_or_create(event_uid=event.uid, device=device, defaults={"user_id": user_id})
        changed = bool(Receipt.objects.filter(pk=receipt.pk, delivered_at__isnull=True).update(delivered_at=now))
        if stage == Stage.SEEN:
            changed = bool(Receipt.objects.filter(pk=receipt.pk, seen_at__isnull=True).update(seen_at=now)) or changed
        if not changed:
            return receipt
        receipt.refresh_from_db()
        first_seen = found is not None and escalation.escalation_on_receipt(escalation=found, stage=stage, at=now)
        frame = {
            "event_id": str(event.uid),
            "event_type": event.type,
            "subject": found.subject if found is not None else None,
            "user_id": user_id,
            "device_id": str(device.pk),
            "delivered_at": receipt.delivered_at.isoformat() if receipt.delivered_at else None,
            "seen_at": receipt.seen_at.isoformat() if receipt.seen_at else None,
        }
        event_emit(type="delivery.updated", recipients=dispatcher_recipients(), data=frame)
    if first_seen and found is not None:
        escalation.escalation_acknowledged_hook(subject=found.subject, user_id=user_id)
    return receipt


def receipts_for_event(*, event_uid: uuid.UUID) -> list[Receipt]:
    return list(Receipt.objects.filter(event_uid=event_uid).select_related("device").order_by("device_id"))
