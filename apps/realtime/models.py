from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class EventStream(models.Model):
    """One stream per user; ``last_seq`` is the stream's cursor counter.

    Sequence numbers are taken under this row's lock inside the writing transaction, so they commit in
    order: a global auto-increment id is not a safe cursor (id 101 may commit after 102).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="event_stream"
    )
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"stream of user {self.user_id} at {self.last_seq}"


class Event(models.Model):
    """A durable event for one recipient. The payload is already filtered for that recipient's role."""

    id = models.BigAutoField(primary_key=True)
    uid = models.UUIDField(default=uuid.uuid4, editable=False)  # the same for every recipient of one event
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "seq"], name="event_user_seq_unique")]
        ordering = ["user", "seq"]

    def __str__(self) -> str:
        return f"{self.type} #{self.seq} for user {self.user_id}"

    def as_frame(self) -> dict[str, object]:
        return {
            "type": "event",
            "cursor": self.seq,
            "id": str(self.uid),
            "event_type": self.type,
            "created_at": self.created_at.isoformat(),
            "data": self.data,
            # The client keeps a receipt for it until the server confirms it (docs/realtime.md).
            "receipt": self.takes_receipt,
        }

    @property
    def takes_receipt(self) -> bool:
        return self.type in settings.REALTIME_RECEIPT_EVENT_TYPES


class Device(models.Model):
    """One browser / installed PWA of a user, identified by a UUID the client generates and keeps.

    The client sends it in its socket ``hello`` and with its push subscription, so delivery and
    "seen" can be shown per device and a lost phone can be revoked on its own.
    """

    id = models.UUIDField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    label = models.CharField(max_length=100, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "-last_seen_at"]

    def __str__(self) -> str:
        return f"device {self.id} of user {self.user_id}"


class Receipt(models.Model):
    """Delivered / seen of one event (by its shared ``uid``) on one device. Written once per stage."""

    event_uid = models.UUIDField(db_index=True)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    delivered_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_uid", "device"], name="receipt_event_device_unique")]
        ordering = ["event_uid", "device"]

    def __str__(self) -> str:
        return f"receipt {self.event_uid} on {self.device_id}"


class Escalation(models.Model):
    """Delivery escalation of one subject (e.g. ``assignment:42``) offered to a set of people.

    The row *is* the job: each stage has a due time and a fired time; a sweep claims a stage with a
    conditional ``UPDATE ... WHERE <stage>_fired_at IS NULL``, so a stage fires once even with two
    workers, two beats or a restart. ``acknowledged_at`` (a device of the team reported the event
    seen) stops the push and alert stages; ``resolved_at`` (accepted, declined, cancelled) stops all.
    """

    subject = models.CharField(max_length=100, unique=True)
    event_uid = models.UUIDField(db_index=True, help_text="The offer event whose receipts acknowledge it.")
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    team_label = models.CharField(max_length=40, blank=True, help_text="Call sign, shown to dispatchers.")
    created_at = models.DateTimeField()
    push_due_at = models.DateTimeField()
    alert_due_at = models.DateTimeField()
    reassign_due_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=32, blank=True)
    push_fired_at = models.DateTimeField(null=True, blank=True)
    alert_fired_at = models.DateTimeField(null=True, blank=True)
    reassign_fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["push_due_at"],
                name="escalation_push_pending",
                condition=models.Q(push_fired_at__isnull=True, acknowledged_at__isnull=True, resolved_at__isnull=True),
            ),
            models.Index(
                fields=["alert_due_at"],
                name="escalation_alert_pending",
                condition=models.Q(alert_fired_at__isnull=True, acknowledged_at__isnull=True, resolved_at__isnull=True),
            ),
            models.Index(
                fields=["reassign_due_at"],
                name="escalation_reassign_pending",
                condition=models.Q(reassign_fired_at__isnull=True, resolved_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"escalation of {self.subject}"


class PushSubscription(models.Model):
    """A Web Push subscription of one device. Removed when the push service answers 404 / 410."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="push_subscription")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "-updated_at"]

    def __str__(self) -> str:
        return f"push subscription of {self.device_id}"
