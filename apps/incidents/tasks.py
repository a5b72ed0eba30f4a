"""Thin Celery tasks: the rules live in services/."""

from __future__ import annotations

from celery import shared_task

from .services import assignments_expire_due, unassigned_alerts_raise


@shared_task(name="incidents.assignments_expire_due", ignore_result=True)
def assignments_expire_due_task() -> int:
    """The offer timer: expire offers nobody accepted in time (INCIDENTS_OFFER_EXPIRE_SECONDS)."""
    return assignments_expire_due()


@shared_task(name="incidents.unassigned_alerts_raise", ignore_result=True)
def unassigned_alerts_raise_task() -> int:
    """Alert the board to calls eligible for co-response that nobody offered in time."""
    return unassigned_alerts_raise()
