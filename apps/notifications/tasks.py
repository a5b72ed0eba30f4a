"""Thin Celery task: beat runs it every NOTIFICATIONS_SWEEP_SECONDS; the safety is in services.py."""

from __future__ import annotations

from celery import shared_task

from .services import notifications_sweep


@shared_task(name="notifications.sweep")
def notifications_sweep_task() -> dict[str, int]:
    return notifications_sweep().as_dict()
