"""Reads for the dispatcher board."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from .models import Escalation, Receipt


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def delivery_board(*, hours: int = 12) -> list[dict[str, Any]]:
    """Escalations started in the last ``hours`` with every device receipt (two queries + one)."""
    since = timezone.now() - dt.timedelta(hours=hours)
    escalations = list(
        Escalation.objects.filter(created_at__gte=since)
        .prefetch_related(Prefetch("recipients"))
        .order_by("-created_at")
    )
    receipts: dict[str, list[Receipt]] = {}
    for receipt in Receipt.objects.filter(event_uid__in=[e.event_uid for e in escalations]).order_by("device_id"):
        receipts.setdefault(str(receipt.event_uid), []).append(receipt)
    return [
        {
            "subject": e.subject,
            "team": e.team_label,
            "event_id": str(e.event_uid),
            "offered_at": _iso(e.created_at),
            "delivered_at": _iso(e.delivered_at),
            "acknowledged_at": _iso(e.acknowledged_at),
            "resolved_at": _iso(e.resolved_at),
            "resolution": e.resolution,
            "pushed_at": _iso(e.push_fired_at),
            "alerted_at": _iso(e.alert_fired_at),
            "flagged_for_reassignment_at": _iso(e.reassign_fired_at),
            "recipients": [u.pk for u in e.recipients.all()],
            "devices": [
                {
                    "device_id": str(r.device_id),
                    "user_id": r.user_id,
                    "delivered_at": _iso(r.delivered_at),
                    "seen_at": _iso(r.seen_at),
                }
                for r in receipts.get(str(e.event_uid), [])
            ],
        }
        for e in escalations
    ]
