"""Cross-cutting tables. Only the idempotency record lives here (see apps/core/idempotency.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .crypto import EncryptedJSONField


class IdempotencyRecord(models.Model):
    """One client write, keyed by (user, Idempotency-Key): the stored answer is replayed on retry.

    The unique constraint is what stops two concurrent requests with the same key from both running:
    the second INSERT waits on the first transaction and then fails, and replays the stored answer.
    The response body is encrypted because clinical writes echo clinical content.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = EncryptedJSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
