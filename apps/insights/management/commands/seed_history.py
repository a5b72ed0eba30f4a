"""A realistic history of the program for the insight screens and the benchmark (apps/insights/history.py)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.insights.history import seed_history
from apps.insights.rollup import months_with_data, rollup_refresh
from apps.insights.selectors import warm_fiscal_years


class Command(BaseCommand):
    help = "Seed months of history at a multiple of Durham's volume (1 = ~1,431 calls a month), then the rollup."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--months", type=int, default=12, help="How many months, ending --end (default 12).")
        parser.add_argument(
            "--scale", type=float, default=1.0, help="Multiple of Durham (100: ~1.7 million calls a year)."
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (the same seed, the same history).")
        parser.add_argument("--end", default="", help="Last day, YYYY-MM-DD (default: yesterday).")
        parser.add_argument("--no-rollup", action="store_true", help="Do not refresh the insights rollup after.")

    def handle(self, *args: Any, **options: Any) -> None:
        months, scale = int(options["months"]), float(options["scale"])
        if not 1 <= months <= 60 or not 0 < scale <= 1000:
            raise CommandError("--months is 1-60 and --scale above 0 (at most 1000).")
        try:
            end = dt.date.fromisoformat(options["end"]) if options["end"] else None
        except ValueError as exc:
            raise CommandError("--end is YYYY-MM-DD.") from exc
        try:
            result = seed_history(months=months, scale=scale, seed=options["seed"], end=end, progress=self.stdout.write)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Seeded {result.incidents:,} calls in {result.seconds:.1f} s:")
        for label, n in sorted(result.rows.items()):
            self.stdout.write(f"  {label:<32} {n:>12,}")
        if not options["no_rollup"]:
            started = time.perf_counter()
            wanted = months_with_data()
            rollup_refresh(wanted)
            warm_fiscal_years(wanted)
            self.stdout.write(f"Rollup: {len(wanted)} month(s) in {time.perf_counter() - started:.1f} s.")
