#!/usr/bin/env python
"""Program insight benchmark: a year at 100x Durham, the dashboard API, a quarter freeze (docs/insights.md).

On PostgreSQL (its own database, dropped and created afresh: the seed refuses an existing history):

1. ``seed_history`` for the last complete federal fiscal year (12 months) at ``--scale`` (default 100:
   ~1.7 million calls with their assignments, triage, encounters, dispositions, referrals, follow-ups);
   then the rollup refresh of every month and the warm-up of the fiscal year's suppression (timed apart).
2. The dashboard API (``GET /api/v1/insights/dashboard/``, through Django's full stack) for the fiscal
   year's last quarter and for the whole fiscal year, ``--runs`` times each, as a supervisor (unsuppressed)
   and as an analyst (suppressed, the fiscal year's suppression cached as after a refresh); p50 / p95.
3. Freezing that quarter (``report_freeze``: recomputes its three months, then stores both answers).
4. The rollup against a fresh recomputation of every month (``mismatches``, must be 0).

Writes ``bench/results/insights.json``. Targets (2 cores): quarter p95 <= 300 ms, year p95 <= 1,000 ms,
freeze <= 30 s. Uses DATABASE_URL's server (database ``coresponse_bench_insights``) and REDIS_URL (db 13 by
default) when set, else local PostgreSQL and Redis.

    python bench/insights_bench.py --scale 100 --runs 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SERVER = "postgres://coresponse:coresponse@127.0.0.1:5432"
DB_NAME = "coresponse_bench_insights"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def fresh_database(server: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DB_NAME],
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DB_NAME)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    return f"{server}/{DB_NAME}"


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=100.0)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    env_url = os.environ.get("DATABASE_URL", "")
    server = env_url.rsplit("/", 1)[0] if env_url.startswith("postgres") else DEFAULT_SERVER
    os.environ["DATABASE_URL"] = fresh_database(server)
    os.environ["REDIS_URL"] = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "durham_coresponse.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import reset_queries
    from rest_framework.test import APIClient

    from apps.accounts.models import User
    from apps.accounts.services import user_set_roles
    from apps.core.timefmt import local_today
    from apps.incidents.models import Incident
    from apps.insights.history import seed_history
    from apps.insights.periods import Period, fiscal_year_of
    from apps.insights.rollup import months_with_data, rollup_mismatches, rollup_refresh
    from apps.insights.selectors import warm_fiscal_years
    from apps.insights.services import report_freeze

    started_load = load()
    call_command("migrate", verbosity=0)
    cache.clear()
    fy = fiscal_year_of(local_today()) - 1  # the last complete federal fiscal year
    year = Period.fiscal_year(fy)
    quarter = Period.quarter(fy, 4)
    print(f"seeding {args.months} months at scale {args.scale} ending {year.last_day} …", flush=True)
    t0 = time.perf_counter()
    result = seed_history(months=args.months, scale=args.scale, end=year.last_day, progress=lambda m: None)
    seed_seconds = time.perf_counter() - t0
    print(f"  {result.incidents:,} calls in {seed_seconds:.0f} s", flush=True)
    t0 = time.perf_counter()
    months = months_with_data()
    rollup_refresh(months)
    rollup_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm_fiscal_years(year.months())
    warm_seconds = time.perf_counter() - t0
    print(f"  rollup {rollup_seconds:.0f} s, fiscal-year suppression {warm_seconds:.1f} s", flush=True)

    def user(name: str, role: str) -> User:
        u, _ = User.objects.get_or_create(username=name, defaults={"first_name": name})
        return user_set_roles(user=u, roles=[role])

    clients = {"supervisor": APIClient(HTTP_HOST="localhost"), "analyst": APIClient(HTTP_HOST="localhost")}
    clients["supervisor"].force_authenticate(user("bench_supervisor", "supervisor"))
    clients["analyst"].force_authenticate(user("bench_analyst", "analyst"))

    def timed(role: str, period: Period) -> list[float]:
        client = clients[role]
        times = []
        for _ in range(args.runs):
            reset_queries()
            t = time.perf_counter()
            response = client.get("/api/v1/insights/dashboard/", {"period": period.key})
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.content[:300]
        return times

    timings = {}
    for role in ("supervisor", "analyst"):
        for label, period in (("quarter", quarter), ("year", year)):
            times = timed(role, period)
            timings[(role, label)] = times
            print(f"  {role} {label}: p50 {statistics.median(times):.0f} ms, p95 {percentile(times, 95):.0f} ms",
                  flush=True)  # fmt: skip
    sizes = {
        label: len(clients["supervisor"].get("/api/v1/insights/dashboard/", {"period": p.key}).content)
        for label, p in (("quarter", quarter), ("year", year))
    }
    # The analyst's first answer after a refresh, before the suppression is cached (the refresh task warms it).
    cache.clear()
    t = time.perf_counter()
    clients["analyst"].get("/api/v1/insights/dashboard/", {"period": quarter.key})
    analyst_cold_ms = (time.perf_counter() - t) * 1000

    t0 = time.perf_counter()
    report_freeze(user=user("bench_freezer", "supervisor"), period_key=quarter.key)
    freeze_seconds = time.perf_counter() - t0
    print(f"  freeze {quarter.key}: {freeze_seconds:.1f} s", flush=True)
    t0 = time.perf_counter()
    mismatches = rollup_mismatches(year.months())
    check_seconds = time.perf_counter() - t0

    def ms(values: list[float]) -> dict[str, float]:
        return {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1)}

    out: dict[str, Any] = {
        "incidents": Incident.objects.count(),
        "dashboard_ms": {
            "quarter_p50": ms(timings[("supervisor", "quarter")])["p50"],
            "quarter_p95": ms(timings[("supervisor", "quarter")])["p95"],
            "year_p50": ms(timings[("supervisor", "year")])["p50"],
            "year_p95": ms(timings[("supervisor", "year")])["p95"],
        },
        "dashboard_ms_analyst": {
            "quarter_p50": ms(timings[("analyst", "quarter")])["p50"],
            "quarter_p95": ms(timings[("analyst", "quarter")])["p95"],
            "year_p50": ms(timings[("analyst", "year")])["p50"],
            "year_p95": ms(timings[("analyst", "year")])["p95"],
            "quarter_cold_ms": round(analyst_cold_ms, 1),
        },
        "freeze_seconds": round(freeze_seconds, 2),
        "mismatches": len(mismatches),
        "mismatch_examples": mismatches[:5],
        "seed_seconds": round(seed_seconds, 1),
        "rollup_seconds": round(rollup_seconds, 1),
        "suppression_warm_seconds": round(warm_seconds, 1),
        "mismatch_check_seconds": round(check_seconds, 1),
        "answer_bytes": sizes,
        "rows": result.rows,
        "periods": {"quarter": quarter.key, "year": year.key},
        "params": {"scale": args.scale, "months": args.months, "runs": args.runs},
        "targets": {"quarter_p95_ms": 300, "year_p95_ms": 1000, "freeze_seconds": 30, "mismatches": 0},
        "machine": {"cpus": os.cpu_count(), "loadavg_start": started_load, "loadavg_end": load()},
        "at": dt.datetime.now(tz=dt.UTC).isoformat(timespec="seconds"),
    }
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "insights.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: out[k] for k in ("incidents", "dashboard_ms", "freeze_seconds", "mismatches")}, indent=2))
    ok = (
        out["dashboard_ms"]["quarter_p95"] <= 300
        and out["dashboard_ms"]["year_p95"] <= 1000
        and freeze_seconds <= 30
        and not mismatches
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
