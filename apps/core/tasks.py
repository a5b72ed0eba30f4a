"""Core housekeeping."""

from __future__ import annotations

import datetime as dt

from celery import shared_task


@shared_task(name="core.idempotency_purge")
def idempotency_purge_task() -> int:
    """Daily: forget completed idempotency records older than a week (a phone replays within hours)."""
    from .idempotency import idempotency_purge

    return idempotency_purge(older_than=dt.timedelta(days=7))
