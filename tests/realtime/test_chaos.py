"""Issue 18's chaos run, in CI: 200 phones (100 officer + clinician teams) running the PWA's own event
client against two uvicorn processes, 500 offers each cancelled or declined 1–10 s later, 30 rounds of
20 sockets aborted without a close frame, Redis killed and restarted 3 s later, one uvicorn killed and
restarted, phones reloaded, second tabs opened and their leaders closed (tests/realtime/chaos.py).

Per phone: nothing lost, nothing handed to the app twice (per device and per tab), every offer's
delivered receipt stored, and every fault caught up within 5 s of its end. The servers log no crashed
socket: one warning per process when Redis goes, one when it is back.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from .chaos import FRONTEND, ChaosConfig, run_chaos
from .world import prepare_world

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CATCH_UP_LIMIT_S = 5.0


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_every_phone_gets_every_event_once_with_its_receipt_through_redis_and_server_faults(tmp_path: Path) -> None:
    if shutil.which("node") is None or not (FRONTEND / "node_modules").is_dir():
        message = "needs node and frontend/node_modules (make frontend) to run the PWA's event client"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    cfg = ChaosConfig(phones=200, offers_per_team=5)
    world = prepare_world(cfg.phones, cfg.phones // 2 * cfg.offers_per_team, dispatchers=1, migrate=False)
    result: dict[str, Any] = run_chaos(world, cfg, database_url(), tmp_path)
    summary = {k: v for k, v in result.items() if k != "per_device"}
    print(json.dumps(summary, indent=2))

    assert result["emitter_errors"] == [], summary
    assert result["offers"] == 500, summary
    assert result["events_expected"] == 2000, summary  # 500 offers x (offered + ended) x 2 phones
    bad = {name: d for name, d in result["per_device"].items() if d["lost"] or d["duplicates"] or d["missing_receipts"]}
    assert not bad, (bad, summary)
    assert result["lost"] == result["duplicates"] == result["missing_receipts"] == result["unexpected"] == 0
    kinds = {"socket_abort", "redis_restart", "uvicorn_kill", "reload", "second_tab"}
    assert set(result["catch_up_seconds"]) == kinds, summary
    slow = {k: v for k, v in result["catch_up_seconds"].items() if v > CATCH_UP_LIMIT_S}
    assert not slow, summary
    logs = result["server_logs"]
    assert logs["asgi_exceptions"] == 0 and logs["errors"] == 0, logs
    # One warning per server process when Redis went, one when it came back (not one per socket).
    assert 1 <= logs["layer_down_warnings"] <= 3 and 1 <= logs["layer_back_warnings"] <= 3, logs
