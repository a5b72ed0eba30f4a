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
        }
