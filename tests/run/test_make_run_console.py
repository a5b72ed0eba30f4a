"""``make run``'s console as a newcomer reads it (scripts/run_all.py, embedded default): one block once
everything is up (addresses, the demo world with its logins, how to stop), then quiet: 60 s of an idle
run print fewer than 30 lines (the periodic sweeps say nothing at INFO), and Ctrl-C stops every process
without an ERROR line or a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
IDLE_SECONDS = 60
MAX_IDLE_LINES = 30
BLOCK_END = "Stop: press Ctrl-C"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_an_idle_embedded_run_prints_one_block_then_stays_quiet_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "REQUIRE_SERVICES"}}
    port = free_port()
    env |= {"VAR_DIR": str(tmp_path), "PORT": str(port), "DEMO_MODE": "1", "DJANGO_DEBUG": "1", "LOG_LEVEL": "INFO"}
    env["DJANGO_SETTINGS_MODULE"] = "durham_coresponse.settings"  # as make run (pytest set settings_test)
    for step in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run([sys.executable, "manage.py", *step], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603

    proc = subprocess.Popen(
        [sys.executable, "scripts/run_all.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group: the test sends it Ctrl-C as a terminal would
    )
    lines: list[tuple[float, str]] = []
    up = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.monotonic(), line.rstrip("\n")))
            if BLOCK_END in line:
                up.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    children: list[int] = []
    try:
        assert up.wait(180), "no ready block within 180 s:\n" + "\n".join(t for _, t in lines[-40:])
        up_at = time.monotonic()
        children = [int(t.rsplit("pid ", 1)[1].rstrip(")")) for _, t in lines if t.startswith("[run] started ")]
        time.sleep(IDLE_SECONDS)
        idle = [t for at, t in lines if at > up_at]
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground group
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        reader.join(10)
    text = [t for _, t in lines]
    block = text[next(i for i, t in enumerate(text) if t.startswith("=" * 20)) :]
    for expected in (f"http://127.0.0.1:{port}/", "/admin/", "/api/docs/", "Logins (password for all", "dispatcher"):
        assert any(expected in t for t in block), expected
    assert len(idle) < MAX_IDLE_LINES, f"{len(idle)} lines in {IDLE_SECONDS} s of an idle run:\n" + "\n".join(idle)
    assert code == 0
    assert [t for t in text if "ERROR" in t or "Traceback" in t] == []
    assert text[-1] == "[run] all stopped"
    assert len(children) == 3 and not [pid for pid in children if group_alive(pid)]
