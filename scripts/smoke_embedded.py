#!/usr/bin/env python
"""Smoke test of the embedded default exactly as ``make run`` starts it (used by .ci/run).

No DATABASE_URL, no REDIS_URL: SQLite, the in-memory channel layer and the filesystem broker, in a
throwaway VAR_DIR. Checks that the processes come up, /healthz is green, a browser signed in with
password + authenticator code (first-sign-in enrolment) has a WebSocket that receives an event
produced inside the Celery worker, and that Ctrl-C stops every process.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("SMOKE_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"


def log(message: str) -> None:
    print(f"[smoke] {message}", flush=True)


def wait_healthy(proc: subprocess.Popen[str], deadline: float) -> dict[str, object]:
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"make run exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{BASE}/healthz", timeout=3) as resp:
                body: dict[str, object] = json.loads(resp.read())
                if body.get("status") == "ok":
                    return body
                last = str(body)
        except Exception as exc:
            last = str(exc)
        time.sleep(1)
    raise SystemExit(f"/healthz never became green: {last}")


def totp_now(secret: str) -> str:
    """The code an authenticator app shows now for the base32 ``secret``."""
    from base64 import b32decode

    from django_otp.oath import TOTP

    totp = TOTP(b32decode(secret), step=30, t0=0, digits=6)
    return f"{totp.token():06d}"


def login(username: str, password: str) -> str:
    """Sign in as the PWA does: password, then (first sign-in) set up the authenticator from the
    returned secret and confirm it with a code, or (already set up) enter a code."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = next(str(c.value or "") for c in jar if c.name == "csrftoken")
        request = urllib.request.Request(
            f"{BASE}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": token, "Referer": BASE + "/"},
            method="POST",
        )
        with opener.open(request) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
            return answer

    with opener.open(f"{BASE}/api/v1/auth/csrf/") as resp:
        json.loads(resp.read())
    step = post("/api/v1/auth/login/", {"username": username, "password": password})
    assert step["status"] == "mfa_enrollment_required", step  # a fresh VAR_DIR: nobody has enrolled
    enrolment = post("/api/v1/auth/mfa/enroll/", {})
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/"), enrolment
    assert enrolment["qr_svg"].startswith("<svg"), enrolment["qr_svg"][:40]
    confirmed = post("/api/v1/auth/mfa/enroll/confirm/", {"code": totp_now(enrolment["secret"])})
    assert len(confirmed["recovery_codes"]) == 10, confirmed
    me = confirmed["me"]
    assert me["username"] == username, me
    log(f"{username}: password, authenticator set up and confirmed, 10 recovery codes")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


async def receive_worker_event(cookie: str, env: dict[str, str]) -> dict[str, Any]:
    headers = {"Cookie": cookie, "Origin": BASE}
    async with websockets.connect(f"ws://127.0.0.1:{PORT}/ws/events/", additional_headers=headers) as ws:
        await ws.send(json.dumps({"type": "hello", "after": 0}))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert welcome["type"] == "welcome", welcome
        # Skip what is already in the stream, then ask the worker for a fresh event.
        out = subprocess.run(
            [sys.executable, "manage.py", "diagnostics_ping", "--user", "dispatcher"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        token = out.stdout.strip().splitlines()[-1]
        log(f"queued diagnostics_ping for the worker (token {token[:8]}…)")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
            if frame.get("type") == "event":
                await ws.send(json.dumps({"type": "ack", "cursor": frame["cursor"]}))
                if frame.get("event_type") == "system.ping" and frame["data"].get("token") == token:
                    return frame
        raise SystemExit("the worker's event never reached the socket")


def process_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)  # each child leads its own process group: checks its pool children too
        return True
    except ProcessLookupError:
        return False


def main() -> int:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "REQUIRE_SERVICES"}}
    var_dir = tempfile.mkdtemp(prefix="coresponse-smoke-")
    env.update({"VAR_DIR": var_dir, "PORT": str(PORT), "EVENTS_BRIDGE_POLL_SECONDS": "0.25"})
    log(f"make run in the embedded default (VAR_DIR={var_dir}, port {PORT})")
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output: list[str] = []

    async def pump() -> None:
        assert proc.stdout is not None
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, proc.stdout.readline)
            if not line:
                return
            output.append(line)

    loop = asyncio.new_event_loop()
    pump_task = loop.create_task(pump())
    ok = False
    try:
        health = loop.run_until_complete(asyncio.to_thread(wait_healthy, proc, time.monotonic() + 600))
        log(f"healthz green: {health['checks']}")
        assert health.get("embedded") is True, "smoke test must run the embedded default"
        cookie = login("dispatcher", "coresponse-demo")
        log("signed in as the demo dispatcher")
        frame = loop.run_until_complete(receive_worker_event(cookie, env))
        log(f"socket received the worker's event: cursor {frame['cursor']} from {frame['data']['origin']}")
        ok = True
    finally:
        pids = [int(p) for p in re.findall(r"\[run\] started \w+ \(pid (\d+)\)", "".join(output))]
        log(f"Ctrl-C to make run (children {pids})")
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise SystemExit("make run did not stop within 40 s of Ctrl-C") from None
        loop.run_until_complete(pump_task)
        survivors = [p for p in pids if process_alive(p)]
        if not ok:
            sys.stdout.write("".join(output[-80:]))
        if len(pids) != 3:
            raise SystemExit(f"expected web, worker and beat to start; saw pids {pids}")
        if survivors:
            raise SystemExit(f"processes still running after Ctrl-C: {survivors}")
        log("all processes stopped")
    log("embedded default: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
