"""Thin Celery tasks: the rules live in escalation.py."""

from __future__ import annotations

from celery import shared_task

from .escalation import escalation_sweep


@shared_task(name="apps.realtime.tasks.escalation_sweep_task", ignore_result=True)
def escalation_sweep_task() -> dict[str, int]:
    return escalation_sweep()
