from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from apps.security.signatures import max_age

from .models import SignatureNonce


@shared_task(name="accounts.signature_nonce_purge")
def signature_nonce_purge() -> int:
    """Forget accepted signatures older than twice the allowed clock skew (a replay that old is
    refused by its timestamp anyway)."""
    cutoff = timezone.now() - dt.timedelta(seconds=2 * max_age())
    deleted, _ = SignatureNonce.objects.filter(seen_at__lt=cutoff).delete()
    return deleted
