"""Events of the telephone stages (apps.realtime.registry).

``notification.stage`` goes to the dispatchers' board whenever a telephone stage of an offer changes
for one member: sent, delivered / answered, replied, skipped (why), failed, cancelled. Ids, channel
and statuses only: never a phone number, never the text.
"""

from __future__ import annotations

from apps.realtime.registry import DATETIME, INTEGER, STRING, UUID, EventType, enum, nullable, obj

STAGE_EVENT = "notification.stage"

NOTIFICATION_STAGE = EventType(
    STAGE_EVENT,
    "A member's SMS or call stage of an offer changed (sent, delivered, answered, replied, skipped); to dispatchers.",
    obj(
        {
            "subject": STRING,
            "event_id": UUID,
            "user_id": INTEGER,
            "channel": enum("sms", "voice"),
            "status": enum("scheduled", "sending", "sent", "skipped", "cancelled", "failed"),
            "provider_status": STRING,
            "sent_at": nullable(DATETIME),
            "delivered_at": nullable(DATETIME),
            "answered_at": nullable(DATETIME),
            "replied_at": nullable(DATETIME),
            "reply": enum("", "accept", "decline"),
            "detail": STRING,
        }
    ),
)

EVENTS = (NOTIFICATION_STAGE,)
