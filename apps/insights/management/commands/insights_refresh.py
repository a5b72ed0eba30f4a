"""Recompute the monthly rollup now: the recent months (default), every month with data, or named months."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.insights.rollup import months_with_data, recent_months, rollup_refresh
from apps.insights.selectors import warm_fiscal_years


class Command(BaseCommand):
    help = "Recompute the insights rollup (recent months by default; --all; --months 2025-01 2025-02)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Every month that has data.")
        parser.add_argument("--months", nargs="+", default=[], help="Months as YYYY-MM.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["months"]:
            try:
                months = [dt.date.fromisoformat(m + "-01") for m in options["months"]]
            except ValueError as exc:
                raise CommandError("Months are YYYY-MM.") from exc
        elif options["all"]:
            months = months_with_data()
        else:
            months = recent_months()
        started = time.perf_counter()
        rollup_refresh(months)
        warm_fiscal_years(months)
        self.stdout.write(f"Rollup: {len(months)} month(s) in {time.perf_counter() - started:.1f} s.")
