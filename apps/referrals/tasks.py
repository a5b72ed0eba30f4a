"""Thin Celery tasks: beat calls them; the rules are in services.py and policy.py."""

from __future__ import annotations

from celery import shared_task

from .services import followup_policy_sweep


@shared_task(name="referrals.followup_policy_sweep")
def followup_policy_sweep_task() -> int:
    return followup_policy_sweep()
