"""What a reminder says on each channel (the push itself is apps.realtime.push).

Push and e-mail leave the building, so their bodies are generic per kind ("You have a follow-up due")
plus a link into the app: no names, no subject title, no clinical words. The person reads the details
after signing in. The in-app event carries ids and the caller's short non-clinical title only.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from .models import Reminder

log = logging.getLogger(__name__)

EMAIL_SUBJECT = "Durham co-response: reminder"
PUSH_TITLE = "Co-response reminder"

# Deliberately vague: these go to lock screens and mail servers.
BODY_BY_KIND: dict[str, str] = {
    Reminder.Kind.FOLLOW_UP_BEFORE_DUE: "You have a follow-up coming due",
    Reminder.Kind.FOLLOW_UP_DUE: "You have a follow-up due",
    Reminder.Kind.FOLLOW_UP_OVERDUE_ESCALATION: "A follow-up is overdue",
    Reminder.Kind.NOTE_UNSIGNED: "You have a document waiting for your signature",
    Reminder.Kind.IVC_CUSTODY_WINDOW: "A time-sensitive task needs your attention",
    Reminder.Kind.GENERIC: "You have a reminder",
}


def absolute_link(reminder: Reminder) -> str:
    return settings.REMINDERS_BASE_URL.rstrip("/") + reminder.url


def body_text(reminder: Reminder) -> str:
    return BODY_BY_KIND.get(reminder.kind, BODY_BY_KIND[Reminder.Kind.GENERIC])


def event_payload(reminder: Reminder) -> dict[str, Any]:
    return {
        "reminder_id": reminder.pk,
        "kind": reminder.kind,
        "title": reminder.title,
        "url": reminder.url,
        "due_at": reminder.due_at.isoformat(),
        "subject_type": reminder.subject_type,
        "subject_id": reminder.subject_id,
    }


def push_payload(reminder: Reminder) -> dict[str, str]:
    # apps.realtime.push accepts only these four string keys (title, body, url, tag).
    return {
        "title": PUSH_TITLE,
        "body": body_text(reminder),
        "url": reminder.url,
        "tag": f"reminder-{reminder.pk}",  # a re-delivered push replaces, not stacks, the notification
    }


def email_body(reminder: Reminder) -> str:
    return (
        f"{body_text(reminder)}.\n\n"
        f"Open it in the co-response app (sign-in required):\n{absolute_link(reminder)}\n\n"
        "This message intentionally contains no details.\n"
    )
