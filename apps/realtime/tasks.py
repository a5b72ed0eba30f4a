"""Thin Celery tasks: the rules live in escalation.py and services.py."""

from __future__ import annotations

import socket

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from .escalation import escalation_sweep
from .services import event_emit


@shared_task(name="apps.realtime.tasks.escalation_sweep_task", ignore_result=True)
def escalation_sweep_task() -> dict[str, int]:
    return escalation_sweep()


@shared_task(name="realtime.diagnostics_ping")
def diagnostics_ping(user_id: int, token: str) -> None:
    """Diagnostics: prove that an event made inside the Celery worker reaches a browser's socket."""
    with transaction.atomic():
        event_emit(
            type="system.ping",
            recipients=[user_id],
            data={"token": token, "origin": f"worker@{socket.gethostname()}", "at": timezone.now().isoformat()},
        )
