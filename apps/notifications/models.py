"""Telephone stages of the delivery escalation (SMS, then a voice call), the numbers they go to, and
the replies that come back. See docs/notifications.md.

A ``Notification`` row *is* the job (as in apps.reminders): created when an offer is pending, claimed
``scheduled`` → ``sending`` before the provider is called, and marked ``sent`` with the provider's id.
The provider has no idempotency key for sending, so a row that was claimed but never marked (its
worker died, or the provider answered 5xx / timed out) is *reconciled* with the provider before any
new send: if the provider already holds a message or call to that number since the claim, the row
takes its id instead of sending again.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

E164_REGEX = r"^\+[1-9][0-9]{6,14}$"


class PhoneNumber(models.Model):
    """A person's mobile number in E.164 (``+19195550100``). SMS and calls go only to a verified one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="phone_number"
    )
    number = models.CharField(max_length=16, help_text="E.164, e.g. +19195550100.")
    verified_at = models.DateTimeField(null=True, blank=True, help_text="When the person confirmed the code.")
    # The person texted STOP (the carrier / Twilio then blocks our texts until START): no more SMS.
    sms_opted_out_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user"]
        constraints = [
            # A reply is matched to a person by the number it comes from: one verified owner per number.
            models.UniqueConstraint(
                fields=["number"], condition=Q(verified_at__isnull=False), name="phone_verified_number_unique"
            ),
            models.CheckConstraint(condition=Q(number__regex=E164_REGEX), name="phone_number_e164"),
        ]

    def __str__(self) -> str:
        return f"{self.masked} of user {self.user_id}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def masked(self) -> str:
        return mask(self.number)


def mask(number: str) -> str:
    """``+1•••••••0100``: enough to recognise, not enough to dial (lists, logs, the board)."""
    if len(number) < 6:
        return "•" * len(number)
    return number[:2] + "•" * (len(number) - 6) + number[-4:]


class PhoneVerification(models.Model):
    """A code texted to a number the person asked to use; the number is theirs once they type it back.

    Only a hash of the code is kept. A new request replaces the open one (``superseded``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_verifications")
    number = models.CharField(max_length=16)
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    provider_sid = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="phoneverif_user_created")]

    def __str__(self) -> str:
        return f"verification of {mask(self.number)} for user {self.user_id}"


class Notification(models.Model):
    """One telephone stage (SMS or call) of one offer to one person. Unique per (offer, person, channel)."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        VOICE = "voice", "Voice call"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"  # the provider accepted it (and gave an id); delivery comes by callback
        SKIPPED = "skipped", "Skipped"  # no verified number, opted out, cap reached, not configured
        CANCELLED = "cancelled", "Cancelled"  # seen in the app, accepted, declined ... before it was due
        FAILED = "failed", "Failed"  # the provider refused it, or transient errors used every attempt

    OPEN: ClassVar[tuple[str, ...]] = (Status.SCHEDULED, Status.SENDING)

    subject = models.CharField(max_length=100, help_text="What was offered, e.g. assignment:42.")
    event_uid = models.UUIDField(help_text="The offer event (realtime) whose receipts say seen.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # Callback URLs carry this token, so a status callback or the call's answer can name its row even
    # when the worker died before it stored the provider's id.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # A short opaque reference in the text (no meaning outside this table): tells two texts to one
    # person apart when reconciling with the provider.
    ref = models.CharField(max_length=8, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    due_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Provider calls that failed (transient).")
    claimed_at = models.DateTimeField(null=True, blank=True)
    first_claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    # Set when a send may have reached the provider without us learning its id (crash, 5xx, timeout).
    needs_reconcile = models.BooleanField(default=False)
    to_number = models.CharField(max_length=16, blank=True)
    provider_sid = models.CharField(max_length=64, blank=True)
    provider_status = models.CharField(max_length=20, blank=True, help_text="The provider's last status.")
    provider_status_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="SMS: the carrier reported delivery.")
    answered_at = models.DateTimeField(null=True, blank=True, help_text="Call: picked up.")
    replied_at = models.DateTimeField(null=True, blank=True)
    reply = models.CharField(max_length=10, blank=True, help_text="accept / decline, by this channel.")
    detail = models.CharField(max_length=300, blank=True, help_text="Why skipped / failed; the last error.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event_uid", "user", "channel"], name="notification_once_per_offer"),
            models.UniqueConstraint(
                fields=["provider_sid"], condition=~Q(provider_sid=""), name="notification_provider_sid_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="scheduled"), name="notification_due_idx"),
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="notification_sending_idx"),
            models.Index(fields=["user", "-created_at"], name="notification_user_created"),
            models.Index(fields=["event_uid"], name="notification_event"),
            models.Index(fields=["sent_at"], name="notification_sent_at"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} of {self.subject} to user {self.user_id} ({self.status})"


class Inbound(models.Model):
    """Every reply and keyword that reached us (SMS text, keypad digit): the audit of what a phone
    asked and what we did. Append-only. Holds the command understood, never the free text of a
    message (a reply may name a person or a condition; we do not keep it)."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        VOICE = "voice", "Voice (keypad)"

    class Command(models.TextChoices):
        ACCEPT = "accept", "Accept (1)"
        DECLINE = "decline", "Decline (2)"
        STOP = "stop", "Opt out (STOP)"
        START = "start", "Opt in (START)"
        HELP = "help", "Help (HELP)"
        OTHER = "other", "Not understood"
        NONE = "none", "No input"

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted the offer"
        DECLINED = "declined", "Declined the offer"
        LATE = "late", "Offer no longer open"
        REFUSED = "refused", "Refused by the assignment rules"
        NO_OFFER = "no_offer", "No offer to this person"
        UNKNOWN_SENDER = "unknown_sender", "Number not verified for anyone"
        NOT_UNDERSTOOD = "not_understood", "Not understood"
        OPTED_OUT = "opted_out", "Opted out of texts"
        OPTED_IN = "opted_in", "Opted back in"
        HELP = "help", "Help sent"

    received_at = models.DateTimeField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # sms:<MessageSid> or voice:<CallSid>: the provider's id is the idempotency key of the reply.
    dedupe_key = models.CharField(max_length=100, unique=True)
    from_number = models.CharField(max_length=16, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    subject = models.CharField(max_length=100, blank=True)
    command = models.CharField(max_length=10, choices=Command.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.CharField(max_length=200, blank=True)
    answer = models.CharField(max_length=320, blank=True, help_text="What we answered (TwiML text).")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["user", "-received_at"], name="inbound_user_received")]

    def __str__(self) -> str:
        return f"{self.channel} {self.command} → {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Inbound replies are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Inbound replies are append-only.")
