"""Events of the delivery engine itself (receipts, escalation, diagnostics); registry.py has the rules."""

from __future__ import annotations

from .registry import BOOLEAN, DATETIME, INTEGER, STRING, UUID, EventType, array, enum, nullable, obj

_ESCALATION = {
    "subject": STRING,  # "<kind>:<id>", e.g. "assignment:42"
    "team": STRING,
    "stage": enum("push", "alert", "reassign"),
    "offered_at": DATETIME,
    "delivered": BOOLEAN,
    "fired_at": DATETIME,
}

DELIVERY_UPDATED = EventType(
    "delivery.updated",
    "A device of a recipient got (delivered) or showed (seen) an event that takes receipts; to dispatchers.",
    obj(
        {
            "event_id": UUID,
            "event_type": STRING,
            "subject": nullable(STRING),
            "user_id": INTEGER,
            "device_id": UUID,
            "delivered_at": nullable(DATETIME),
            "seen_at": nullable(DATETIME),
        }
    ),
)
DELIVERY_ESCALATED = EventType(
    "delivery.escalated",
    "No device of the recipients saw an offer in time: pushed to their phones; to dispatchers.",
    obj({**_ESCALATION, "recipients": array(INTEGER)}),
)
DELIVERY_ALERT = EventType(
    "delivery.alert",
    "An offer is still unseen: call the team or reassign; to dispatchers.",
    obj(_ESCALATION),
)
DELIVERY_REASSIGN = EventType(
    "delivery.reassign",
    "An offer was not resolved in time and is flagged for reassignment; to dispatchers.",
    obj(_ESCALATION),
)
SYSTEM_PING = EventType(
    "system.ping",
    "Diagnostics: an event made in the Celery worker (manage.py diagnostics_ping) to one user.",
    obj({"token": STRING, "origin": STRING, "at": DATETIME}),
)

EVENTS = (DELIVERY_UPDATED, DELIVERY_ESCALATED, DELIVERY_ALERT, DELIVERY_REASSIGN, SYSTEM_PING)
