"""Thin Celery tasks: beat calls them every minute; the work (and the safety) is in services.py."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from .services import reminders_recover_stuck, reminders_sweep


@shared_task(name="reminders.sweep")
def reminders_sweep_task() -> dict[str, Any]:
    result = reminders_sweep()
    return {"claimed": result.claimed, "sent": result.sent, "recovered": result.recovered}


@shared_task(name="reminders.recover_stuck")
def reminders_recover_stuck_task() -> int:
    return reminders_recover_stuck()
