"""The public reads other apps build on: pending offers with who has seen them, and board extensions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.realtime import selectors
from apps.realtime.escalation import escalation_resolve, escalation_start
from apps.realtime.models import Device
from apps.realtime.receipts import receipt_record
from apps.realtime.selectors import (
    delivery_board,
    escalation_view,
    escalations_pending,
    register_delivery_board_extension,
)
from apps.realtime.services import event_emit

from .conftest import TEST_OFFER


def offer(subject: str, recipients: list[Any], *, at: dt.datetime | None = None) -> uuid.UUID:
    with transaction.atomic():
        events = event_emit(type=TEST_OFFER, recipients=recipients, data={"n": 1})
        escalation_start(subject=subject, event_uid=events[0].uid, recipients=recipients, team_label="CR-A", at=at)
    return events[0].uid


def test_pending_escalations_name_their_recipients_and_who_has_seen_them(
    officer_a: Any, clinician_a: Any, officer_b: Any
) -> None:
    old = offer("test:old", [officer_b], at=timezone.now() - dt.timedelta(hours=2))
    fresh = offer("test:fresh", [officer_a, clinician_a])
    resolved = offer("test:resolved", [officer_a])
    escalation_resolve(subject="test:resolved", resolution="accepted")

    pending = escalations_pending(since=timezone.now() - dt.timedelta(minutes=10))
    assert [v.subject for v in pending] == ["test:fresh"]
    (view,) = pending
    assert view.pending and view.recipients == tuple(sorted([officer_a.pk, clinician_a.pk]))
    assert view.seen_by == frozenset() and view.event_uid == fresh

    device = Device.objects.create(id=uuid.uuid4(), user=clinician_a, last_seen_at=timezone.now())
    receipt_record(user=clinician_a, device_id=device.pk, stage="seen", event_uid=fresh)
    seen = escalation_view(event_uid=fresh)
    assert seen is not None and not seen.pending and seen.seen_by == frozenset({clinician_a.pk})
    assert escalations_pending(since=timezone.now() - dt.timedelta(minutes=10)) == []
    assert escalation_view(event_uid=uuid.uuid4()) is None
    assert escalation_view(event_uid=old) is not None and escalation_view(event_uid=resolved) is not None


def test_a_registered_board_extension_adds_to_every_row(officer_a: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(selectors, "_board_extensions", [])
    offer("test:1", [officer_a])

    def extend(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["extra"] = row["subject"].upper()

    register_delivery_board_extension(extend)
    register_delivery_board_extension(extend)  # once only
    (row,) = delivery_board()
    assert row["extra"] == "TEST:1"
    assert selectors._board_extensions == [extend]
