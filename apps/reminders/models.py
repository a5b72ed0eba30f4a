"""Reminders: rows in the database, swept by Celery beat (never long ETA tasks: PITFALLS.md).

A row *is* the job. The sweep claims due rows (``scheduled`` → ``sending``), delivers them through
each channel once (a ``Delivery`` row per channel), and marks them ``sent``. A row left in
``sending`` by a dead worker is put back by time. See docs/reminders.md.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReminderQuerySet(models.QuerySet["Reminder"]):
    def due(self, at: dt.datetime) -> ReminderQuerySet:
        """Scheduled rows whose next attempt is due at ``at``, oldest first: the sweep's query, served
        by the partial index ``reminder_due_scheduled_idx``."""
        return self.filter(status=Reminder.Status.SCHEDULED, next_attempt_at__lte=at).order_by("next_attempt_at")


class Reminder(models.Model):
    class Kind(models.TextChoices):
        FOLLOW_UP_BEFORE_DUE = "follow_up_before_due", "Follow-up coming due"
        FOLLOW_UP_DUE = "follow_up_due", "Follow-up due"
        FOLLOW_UP_OVERDUE_ESCALATION = "follow_up_overdue_escalation", "Follow-up overdue (escalation)"
        NOTE_UNSIGNED = "note_unsigned", "Note awaiting signature"
        IVC_CUSTODY_WINDOW = "ivc_custody_window", "Custody time window"
        GENERIC = "generic", "Reminder"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    due_at = models.DateTimeField(help_text="When the reminder is due (UTC).")
    # When the sweep may next pick the row up: ``due_at`` at first, later after a retry back-off.
    next_attempt_at = models.DateTimeField()
    # What the reminder is about, as a label + id pair (e.g. "referrals.followup", "42") rather than a
    # generic foreign key, so any subsystem (or a non-model subject) can be named without a join.
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    title = models.CharField(max_length=120, help_text="Short and non-clinical: shown in the app's event log.")
    url = models.CharField(max_length=300, help_text="App path the reminder links to, e.g. /referrals/42.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The sweep's "find due" query: only scheduled rows, by next attempt (partial, so the
            # index stays small however many rows are sent or cancelled).
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="scheduled"), name="reminder_due_scheduled_idx"
            ),
            # Stuck-row recovery looks at the (few) rows in "sending".
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="reminder_sending_claimed_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="reminder_subject_idx"),
            models.Index(fields=["recipient", "due_at"], name="reminder_recipient_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for user {self.recipient_id} at {self.due_at:%Y-%m-%d %H:%M}Z ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.SCHEDULED, self.Status.SENDING)


class Delivery(models.Model):
    """One channel's delivery of one reminder. Unique per (reminder, channel): a retry after a crash
    skips a channel that already went out."""

    class Channel(models.TextChoices):
        EVENT = "event", "Event log"
        PUSH = "push", "Web Push"
        EMAIL = "email", "E-mail"

    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"  # nothing to send to (no e-mail address, no push subscription)

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    detail = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reminder", "channel"], name="delivery_once_per_channel")]
        ordering = ["reminder", "at"]

    def __str__(self) -> str:
        return f"{self.channel} {self.outcome} for reminder {self.reminder_id}"
