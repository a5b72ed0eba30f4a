"""What a reminder says on each channel, and the Web Push integration point.

Push and e-mail leave the building, so their bodies are generic per kind ("You have a follow-up due")
plus a link into the app: no names, no subject title, no clinical words. The person reads the details
after signing in. The in-app event carries ids and the caller's short non-clinical title only.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.conf import settings

from apps.accounts.models import User

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


# --- Web Push integration point -------------------------------------------------------------------
# apps/realtime/push.py (built separately) owns subscriptions and VAPID. We call its
# ``push_send_to_user(user, payload)``, which returns a result with ``sent`` / ``failed`` counts.
# While that module does not exist, push is a no-op recorded as "skipped: push module not
# installed". If the module exists but lacks the function, that is a wiring bug and delivery fails
# loudly (and is retried), rather than silently never pushing.
PUSH_MODULE = "apps.realtime.push"
PUSH_FUNCTION = "push_send_to_user"


class PushOutcome(Protocol):
    sent: int
    failed: int


PushSender = Callable[[User, Mapping[str, Any]], PushOutcome]


def push_sender() -> PushSender | None:
    try:
        module = importlib.import_module(PUSH_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == PUSH_MODULE:
            return None
        raise
    sender: PushSender | None = getattr(module, PUSH_FUNCTION, None)
    if sender is None:
        raise RuntimeError(f"{PUSH_MODULE} has no {PUSH_FUNCTION}(user, payload); reminders cannot push")
    return sender
