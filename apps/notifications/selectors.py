"""Reads: which telephone stage reached each member of an offer (added to the delivery board)."""

from __future__ import annotations

import uuid
from typing import Any

from apps.realtime.models import PushSubscription

from .models import Notification
from .provider import provider_configured
from .services import stage_frame


def board_extend(rows: list[dict[str, Any]]) -> None:
    """Per offer row of ``apps.realtime.selectors.delivery_board``: ``phone_stages`` ("on" / "off":
    no provider) and ``reach``, one entry per recipient: push (sent to a subscribed phone), the SMS
    and the call (status, delivered / answered), and a reply by phone. Two queries for all rows."""
    configured = provider_configured()
    uids = [uuid.UUID(row["event_id"]) for row in rows]
    stages: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for note in Notification.objects.filter(event_uid__in=uids).order_by("id"):
        stages.setdefault((str(note.event_uid), note.user_id), {})[note.channel] = stage_frame(note)
    people = {uid for row in rows for uid in row["recipients"]}
    subscribed = set(
        PushSubscription.objects.filter(user_id__in=people, device__revoked_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )
    for row in rows:
        reach = []
        for user_id in row["recipients"]:
            mine = stages.get((row["event_id"], user_id), {})
            replied = next((s for s in mine.values() if s["replied_at"]), None)
            reach.append(
                {
                    "user_id": user_id,
                    "push": {"subscribed": user_id in subscribed, "sent_at": row["pushed_at"]}
                    if user_id in subscribed
                    else {"subscribed": False, "sent_at": None},
                    "sms": mine.get(Notification.Channel.SMS),
                    "voice": mine.get(Notification.Channel.VOICE),
                    "reply": {"action": replied["reply"], "channel": replied["channel"], "at": replied["replied_at"]}
                    if replied
                    else None,
                }
            )
        row["phone_stages"] = "on" if configured else "off"
        row["reach"] = reach
