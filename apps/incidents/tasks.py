"""Thin Celery tasks: the rules live in services/."""

from __future__ import annotations

from celery import shared_task

from .services import assignments_expire_due


@shared_task(name="incidents.assignments_expire_due", ignore_result=True)
def assignments_expire_due_task() -> int:
    """The offer timer: expire offers nobody accepted in time (INCIDENTS_OFFER_EXPIRE_SECONDS)."""
    return assignments_expire_due()
