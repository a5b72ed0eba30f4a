#!/usr/bin/env python
"""Start the web server, a Celery worker and Celery beat; Ctrl-C (or SIGTERM) stops all three.

Used by ``make run``. Each child runs in its own process group so that stopping reaches the
processes they start too (Celery's pool workers). If one child dies, the others are stopped and the
exit code says which failed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")


def commands() -> dict[str, list[str]]:
    var = Path(os.environ.get("VAR_DIR", ROOT / "var"))
    # Embedded default (no REDIS_URL): one web process, because the in-memory channel layer does not
    # cross processes. With Redis, WEB_CONCURRENCY workers may share the load.
    workers = os.environ.get("WEB_CONCURRENCY", "1") if os.environ.get("REDIS_URL") else "1"
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
        ],
        "worker": [
            str(BIN / "celery"),
            "-A",
            "durham_coresponse",
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
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(var / "celerybeat-schedule"),
            "--pidfile",
            "",
        ],
    }


def stop(children: dict[str, subprocess.Popen[bytes]], grace: float = 10.0) -> None:
    for proc in children.values():
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for name, cmd in commands().items():
        children[name] = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
        print(f"[run] started {name} (pid {children[name].pid})", flush=True)
    print(
        f"[run] open http://{HOST}:{PORT}/  (admin: /admin/, API docs: /api/docs/). Ctrl-C stops all.",
        flush=True,
    )
    code = 0
    try:
        while not stopping:
            for name, proc in children.items():
                if proc.poll() is not None:
                    print(f"[run] {name} exited with {proc.returncode}; stopping the others", flush=True)
                    code = proc.returncode or 1
                    stopping = True
                    break
            time.sleep(0.3)
    finally:
        print("[run] stopping web, worker and beat…", flush=True)
        stop(children)
        print("[run] all stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
