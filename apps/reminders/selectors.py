"""Reads of reminders. A person sees only their own reminders."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User

from .models import Reminder

UPCOMING = "upcoming"
SENT = "sent"
ALL = "all"
STATES = (UPCOMING, SENT, ALL)


def reminders_for_user(*, user: User, state: str = UPCOMING) -> QuerySet[Reminder]:
    """``upcoming``: scheduled or being sent, soonest first; ``sent``: delivered, latest first;
    ``all``: every one of the user's reminders, latest due first."""
    qs = Reminder.objects.filter(recipient=user)
    if state == UPCOMING:
        return qs.filter(status__in=[Reminder.Status.SCHEDULED, Reminder.Status.SENDING]).order_by("due_at", "id")
    if state == SENT:
        return qs.filter(status=Reminder.Status.SENT).order_by("-sent_at", "-id")
    return qs.order_by("-due_at", "-id")
