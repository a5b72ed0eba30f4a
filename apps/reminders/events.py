"""Events of reminders (apps.realtime.registry): a reminder came due, to its recipient. The caller's
short non-clinical title and ids only (apps/reminders/channels.py ``event_payload``)."""

from __future__ import annotations

from apps.realtime.registry import DATETIME, INTEGER, STRING, EventType, enum, obj

from .models import Reminder

REMINDER_DUE = EventType(
    "reminder.due",
    "A reminder came due; to its recipient (a follow-up, an unsigned note, an IVC window ...).",
    obj(
        {
            "reminder_id": INTEGER,
            "kind": enum(*Reminder.Kind.values),
            "title": STRING,
            "url": STRING,
            "due_at": DATETIME,
            "subject_type": STRING,
            "subject_id": STRING,
        }
    ),
)

EVENTS = (REMINDER_DUE,)
