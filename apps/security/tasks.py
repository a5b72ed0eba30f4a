from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.accounts.models import SignatureNonce

from .models import SecurityEvent
from .signatures import max_age


@shared_task(name="security.audit_purge")
def audit_purge() -> int:
    """Delete security events older than the retention (never less than 365 days)."""
    days = max(365, int(settings.SECURITY_AUDIT_RETENTION_DAYS))
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _ = SecurityEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(name="security.sessions_sweep")
def sessions_sweep() -> dict[str, int]:
    """Record expiry / idle lock of sessions nobody is using (apps.security.sessions)."""
    from .sessions import sessions_sweep as sweep

    return sweep()


@shared_task(name="security.lockout_purge")
def lockout_purge() -> int:
    """Forget stale failed-sign-in counters (apps.security.lockout)."""
    from .lockout import lockout_purge as purge

    return purge()


@shared_task(name="security.signature_nonce_purge")
def signature_nonce_purge() -> int:
    """Forget accepted signatures older than twice the allowed clock skew (a replay that old is
    refused by its timestamp anyway)."""
    cutoff = timezone.now() - dt.timedelta(seconds=2 * max_age())
    deleted, _ = SignatureNonce.objects.filter(seen_at__lt=cutoff).delete()
    return deleted
