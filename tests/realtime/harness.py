"""Real processes for the scale-out tests and the push benchmark: a throwaway Redis, uvicorn servers
sharing one PostgreSQL database, and a WebSocket client that resumes from its cursor.

Never touches the machine's shared Redis on 6379: every test starts its own on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


class ThrowawayRedis:
    """``redis-server`` on a free port, no persistence: a restart loses every group membership."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [  # noqa: S607 - redis-server from PATH, like the CI image
                "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self, down_for: float = 0.5) -> None:
        self.kill()
        time.sleep(down_for)
        self.start()


@dataclass
class Server:
    """One uvicorn process (its own process group, so a kill reaches everything it started)."""

    port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def start(self, timeout: float = 20.0) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                str(BIN / "uvicorn"),
                "durham_coresponse.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--lifespan",
                "off",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        wait_port(self.port, timeout)

    def kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def server_env(database_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "durham_coresponse.settings",
            "DATABASE_URL": database_url,
            "DJANGO_DEBUG": "1",
            "LOG_LEVEL": "WARNING",
            # The same field-encryption keys as the test process (API keys' signing secrets, notes).
            "NOTE_ENCRYPTION_KEYS": ",".join(settings.NOTE_ENCRYPTION_KEYS),
        }
    )
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


@contextlib.contextmanager
def servers(n: int, env: dict[str, str], log_dir: Path | None = None) -> Iterator[list[Server]]:
    started = [
        Server(port=free_port(), env=env, log_path=(log_dir / f"uvicorn-{i}.log") if log_dir else None)
        for i in range(n)
    ]
    try:
        for s in started:
            s.start()
        yield started
    finally:
        for s in started:
            s.stop()


@dataclass
class Client:
    """A resuming event client: says hello with its last cursor, answers pings, acks every event,
    and reconnects (to the same server) when the socket drops. Records every event frame received,
    duplicates included, so a test can count them."""

    port: int
    session_key: str
    name: str = ""
    cursor: int = 0
    frames: list[dict[str, Any]] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)
    connects: int = 0
    closes: list[int] = field(default_factory=list)
    closed_at: list[float] = field(default_factory=list)  # time.time() of each close, as ``closes``
    ack: bool = True
    _stop: bool = False
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ids(self) -> list[str]:
        return [f["id"] for f in self.frames]

    async def run(self) -> None:
        import websockets

        headers = {"Cookie": f"sessionid={self.session_key}", "Origin": f"http://127.0.0.1:{self.port}"}
        while not self._stop:
            try:
                async with websockets.connect(
                    f"ws://127.0.0.1:{self.port}/ws/events/",
                    additional_headers=headers,
                    open_timeout=10,
                    ping_interval=None,
                    max_queue=None,
                ) as ws:
                    self.connects += 1
                    await ws.send(json.dumps({"type": "hello", "after": self.cursor}))
                    async for raw in ws:
                        now = time.time()
                        frame = json.loads(raw)
                        kind = frame.get("type")
                        if kind == "welcome":
                            self.connected.set()
                        elif kind == "ping":
                            await ws.send('{"type":"pong"}')
                        elif kind == "event":
                            self.frames.append(frame)
                            self.received_at.append(now)
                            self.cursor = max(self.cursor, frame["cursor"])
                            if self.ack:
                                await ws.send(json.dumps({"type": "ack", "cursor": frame["cursor"]}))
                        if self._stop:
                            break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused while a server restarts, closed by a dying server ...
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                self.closes.append(int(code) if code else 0)
                self.closed_at.append(time.time())
                if code == 4401:
                    return
            self.connected.clear()
            if not self._stop:
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        self._stop = True


async def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return bool(predicate())
