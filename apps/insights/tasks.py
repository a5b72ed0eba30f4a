"""Thin Celery tasks: beat calls them; the work is in rollup.py (and the suppression warm-up in selectors.py)."""

from __future__ import annotations

from celery import shared_task

from .rollup import months_with_data, recent_months, rollup_refresh
from .selectors import warm_fiscal_years


@shared_task(name="insights.rollup_refresh_recent")
def rollup_refresh_recent_task() -> int:
    months = recent_months()
    rollup_refresh(months)
    warm_fiscal_years(months)
    return len(months)


@shared_task(name="insights.rollup_refresh_all")
def rollup_refresh_all_task() -> int:
    months = months_with_data()
    rollup_refresh(months)
    warm_fiscal_years(months)
    return len(months)
