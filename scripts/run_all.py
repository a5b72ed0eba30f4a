#!/usr/bin/env python
"""Start the web server, a Celery worker and Celery beat; Ctrl-C (or SIGTERM) stops all three.

Used by ``make run``. Once the web answers ``/healthz`` and the worker is ready, it prints one block:
the addresses, the demo world and its logins (``seed_demo --report``), how to stop. After that the
console stays quiet: the periodic sweeps log nothing at INFO (durham_coresponse/celery.py), the
access log is off (``ACCESS_LOG=1`` turns it on), and what remains is what someone did or what went
wrong.

Each child runs in its own process group. To stop, each child's main process gets SIGTERM (uvicorn
and Celery shut down cleanly: the worker waits for its pool, which then exits by itself, so no
"exited with signal 15" error); whatever is still alive after the grace period is killed as a group.
If one child dies, the others are stopped and the exit code says which failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")
BASE = f"http://{HOST}:{PORT}"
READY_TIMEOUT = float(os.environ.get("RUN_READY_TIMEOUT", "120"))
WORKER_READY = " ready."  # Celery: "worker@host ready."


def commands() -> dict[str, list[str]]:
    var = Path(os.environ.get("VAR_DIR", ROOT / "var"))
    # Embedded default (no REDIS_URL): one web process, because the in-memory channel layer does not
    # cross processes. With Redis, WEB_CONCURRENCY workers may share the load.
    workers = os.environ.get("WEB_CONCURRENCY", "1") if os.environ.get("REDIS_URL") else "1"
    access_log = [] if os.environ.get("ACCESS_LOG") == "1" else ["--no-access-log"]
    return {
        "web": [
            str(BIN / "uvicorn"),
            "durham_coresponse.asgi:application",
            "--host",
            HOST,
            "--port",
            PORT,
            "--workers",
            workers,
            "--lifespan",
            "off",
            "--ws-ping-interval",
            "20",
            *access_log,
        ],
        "worker": [
            str(BIN / "celery"),
            "-A",
            "durham_coresponse",
            "--quiet",  # no banner: the block at the end says what matters
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            os.environ.get("CELERY_CONCURRENCY", "2"),
            "--hostname",
            "worker@%h",
        ],
        "beat": [
            str(BIN / "celery"),
            "-A",
            "durham_coresponse",
            "--quiet",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(var / "celerybeat-schedule"),
            "--pidfile",
            "",
        ],
    }


def stop(children: dict[str, subprocess.Popen[bytes]], grace: float = 15.0) -> None:
    # The main process only: Celery's main process stops its pool itself (a signal to the whole
    # group would kill the pool processes under it, which it reports as an ERROR).
    for proc in children.values():
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # Anything a child left behind in its group (a pool process orphaned by a crash).
    for proc in children.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def forward(name: str, stream: IO[bytes], seen: dict[str, threading.Event]) -> None:
    """Copy a child's output to ours, line by line; note when the worker says it is ready."""
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        if name == "worker" and WORKER_READY in line:
            seen["worker"].set()
        sys.stdout.write(line)
        sys.stdout.flush()


def web_healthy() -> bool:
    try:
        with urllib.request.urlopen(f"{BASE}/healthz", timeout=3) as resp:
            return bool(json.loads(resp.read()).get("status") == "ok")
    except Exception:
        return False


def demo_report() -> str:
    """The demo world and its logins, as seed_demo prints it (empty outside demo mode)."""
    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--report"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else ""


def banner(report: str) -> str:
    rule = "=" * 78
    mode = (
        "PostgreSQL + Redis"
        if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")
        else "embedded: SQLite, no Redis"
    )
    lines = [
        "",
        rule,
        f"Co-Response is running ({mode}).",
        f"  Field app (PWA)   {BASE}/",
        f"  Admin             {BASE}/admin/",
        f"  API docs          {BASE}/api/docs/",
        "",
        *[line.rstrip() for line in report.strip().splitlines()],
        "",
        "Stop: press Ctrl-C (stops web, worker and beat).",
        rule,
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    seen = {"worker": threading.Event()}
    for name, cmd in commands().items():
        proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        children[name] = proc
        assert proc.stdout is not None
        threading.Thread(target=forward, args=(name, proc.stdout, seen), daemon=True).start()
        print(f"[run] started {name} (pid {proc.pid})", flush=True)
    code = 0
    announced = False
    started = time.monotonic()
    try:
        while not stopping:
            for name, proc in children.items():
                if proc.poll() is not None:
                    print(f"[run] {name} exited with {proc.returncode}; stopping the others", flush=True)
                    code = proc.returncode or 1
                    stopping = True
                    break
            if not announced and not stopping:
                if seen["worker"].is_set() and web_healthy():
                    print(banner(demo_report()), flush=True)
                    announced = True
                elif time.monotonic() - started > READY_TIMEOUT:
                    print(f"[run] not ready after {READY_TIMEOUT:.0f} s: see the lines above", flush=True)
                    announced = True
            time.sleep(0.3)
    finally:
        print("[run] stopping web, worker and beat…", flush=True)
        stop(children)
        print("[run] all stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
