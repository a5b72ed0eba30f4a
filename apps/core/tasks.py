"""Diagnostics: prove that an event made inside the Celery worker reaches a browser's socket."""

from __future__ import annotations

import datetime as dt
import socket

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from apps.realtime.services import event_emit


@shared_task(name="core.diagnostics_ping")
def diagnostics_ping(user_id: int, token: str) -> None:
    with transaction.atomic():
        event_emit(
            type="system.ping",
            recipients=[user_id],
            data={"token": token, "origin": f"worker@{socket.gethostname()}", "at": timezone.now().isoformat()},
        )


@shared_task(name="core.idempotency_purge")
def idempotency_purge_task() -> int:
    """Daily: forget completed idempotency records older than a week (a phone replays within hours)."""
    from .idempotency import idempotency_purge

    return idempotency_purge(older_than=dt.timedelta(days=7))
