"""Events this app emits (the event registry of issue 19 reads them from here).

``notification.stage`` goes to the dispatchers' board whenever a telephone stage of an offer changes
for one member: planned, sent, delivered / answered, replied, skipped (why), failed. Ids, channel and
statuses only: never a phone number, never the text.
"""

from __future__ import annotations

from typing import Any

STAGE_EVENT = "notification.stage"

_ISO = {"type": ["string", "null"]}

SCHEMAS: dict[str, dict[str, Any]] = {
    STAGE_EVENT: {
        "type": "object",
        "additionalProperties": False,
        "required": ["subject", "event_id", "user_id", "channel", "status"],
        "properties": {
            "subject": {"type": "string"},
            "event_id": {"type": "string"},
            "user_id": {"type": "integer"},
            "channel": {"enum": ["sms", "voice"]},
            "status": {"enum": ["scheduled", "sending", "sent", "skipped", "cancelled", "failed"]},
            "provider_status": {"type": "string"},
            "sent_at": _ISO,
            "delivered_at": _ISO,
            "answered_at": _ISO,
            "replied_at": _ISO,
            "reply": {"enum": ["", "accept", "decline"]},
            "detail": {"type": "string"},
        },
    },
}
