from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import SecurityEvent


@shared_task(name="security.audit_purge")
def audit_purge() -> int:
    """Delete security events older than the retention (never less than 365 days)."""
    days = max(365, int(settings.SECURITY_AUDIT_RETENTION_DAYS))
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _ = SecurityEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
