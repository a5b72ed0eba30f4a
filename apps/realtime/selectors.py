"""Reads for the dispatcher board, and for apps that add delivery stages of their own (e.g. SMS)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from .models import Escalation, Receipt


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


BoardRows = list[dict[str, Any]]
_board_extensions: list[Callable[[BoardRows], None]] = []


def register_delivery_board_extension(extend: Callable[[BoardRows], None]) -> None:
    """An upper app adds its own per-offer facts to the board rows (in place), e.g. which phone stage
    reached each member. Called once per board load with every row; keep it to a few queries."""
    if extend not in _board_extensions:
        _board_extensions.append(extend)


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
    rows = [
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
    for extend in _board_extensions:
        extend(rows)
    return rows


@dataclass(frozen=True)
class EscalationView:
    """One offer's delivery state, for an app that runs later stages of its own (SMS, a call)."""

    subject: str
    event_uid: uuid.UUID
    team_label: str
    offered_at: dt.datetime
    acknowledged_at: dt.datetime | None  # a device of a recipient reported the offer *seen*
    resolved_at: dt.datetime | None  # accepted, declined, cancelled, expired ...
    pushed_at: dt.datetime | None
    recipients: tuple[int, ...]
    seen_by: frozenset[int]  # recipients with at least one device that reported the offer seen

    @property
    def pending(self) -> bool:
        """Nobody has seen it and it is not resolved: later stages still have a reason to run."""
        return self.acknowledged_at is None and self.resolved_at is None


def _views(escalations: list[Escalation]) -> list[EscalationView]:
    seen: dict[uuid.UUID, set[int]] = {}
    rows = Receipt.objects.filter(event_uid__in=[e.event_uid for e in escalations], seen_at__isnull=False)
    for event_uid, user_id in rows.values_list("event_uid", "user_id"):
        seen.setdefault(event_uid, set()).add(user_id)
    out = []
    for e in escalations:
        recipients = tuple(sorted(u.pk for u in e.recipients.all()))
        out.append(
            EscalationView(
                subject=e.subject,
                event_uid=e.event_uid,
                team_label=e.team_label,
                offered_at=e.created_at,
                acknowledged_at=e.acknowledged_at,
                resolved_at=e.resolved_at,
                pushed_at=e.push_fired_at,
                recipients=recipients,
                seen_by=frozenset(seen.get(e.event_uid, set()) & set(recipients)),
            )
        )
    return out


def escalations_pending(*, since: dt.datetime, subject_prefix: str = "", limit: int = 500) -> list[EscalationView]:
    """Offers made since ``since`` that nobody has seen and that are not resolved, oldest first."""
    escalations = list(
        Escalation.objects.filter(
            created_at__gte=since,
            subject__startswith=subject_prefix,
            acknowledged_at__isnull=True,
            resolved_at__isnull=True,
        )
        .prefetch_related(Prefetch("recipients"))
        .order_by("created_at")[:limit]
    )
    return _views(escalations)


def escalation_view(*, event_uid: uuid.UUID) -> EscalationView | None:
    """The current state of the offer made by event ``event_uid`` (re-read right before a stage acts)."""
    escalation = Escalation.objects.filter(event_uid=event_uid).prefetch_related(Prefetch("recipients")).first()
    if escalation is None:
        return None
    return _views([escalation])[0]
