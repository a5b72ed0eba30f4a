"""Real Celery workers (subprocesses) against the real broker and the pytest test database.

Each test gets its own queue name, so a stale message from an earlier run (or another test) is never
consumed. Workers use the solo pool, so SIGKILL of the process group kills the delivery mid-flight.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).parent / "celery"


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def worker_database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self) -> None:
        wait_for(lambda: " ready." in self.output() or self.process.poll() is not None, timeout=30, what="worker ready")
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited early:\n{self.output()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Harness:
    tmp: Path
    queue: str
    redis_url: str
    mail_dir: Path
    workers: list[Worker] = field(default_factory=list)

    def start_worker(self, *, redis_url: str | None = None, wait: bool = True, **env: str) -> Worker:
        n = len(self.workers)
        log = self.tmp / f"worker-{n}.log"
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "durham_coresponse.settings",
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": redis_url or self.redis_url,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "REMINDERS_SENDING_TIMEOUT_SECONDS": "2",
            "DB_POOL_MIN": "1",
            "DB_POOL_MAX": "4",
            "PYTHONPATH": str(ROOT),
            **env,
        }
        process = subprocess.Popen(  # noqa: S603 - fixed argv, our own venv's celery
            [
                str(CELERY),
                "-A",
                "durham_coresponse",
                "worker",
                "--pool",
                "solo",
                "--queues",
                self.queue,
                "--hostname",
                f"rel{n}-{uuid.uuid4().hex[:6]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = Worker(process=process, log=log)
        self.workers.append(worker)
        wait_for(lambda: " ready." in worker.output() or process.poll() is not None, timeout=30, what="worker ready")
        if process.poll() is not None:
            raise AssertionError(f"worker exited early:\n{worker.output()}")
        return worker

    def producer(self, redis_url: str | None = None) -> Celery:
        app = Celery("reliability-producer", broker=redis_url or self.redis_url, set_as_current=False)
        app.conf.broker_connection_retry = False
        app.conf.broker_connection_timeout = 2
        return app

    def sweep(self, redis_url: str | None = None) -> None:
        """What beat does every minute: publish one sweep task."""
        with self.producer(redis_url) as app:
            app.send_task("reminders.sweep", queue=self.queue, retry=False)

    def mail_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.mail_dir.glob("*.log")))


@pytest.fixture
def harness(transactional_db: Any, tmp_path: Path) -> Iterator[Harness]:
    if not settings.IS_POSTGRES or not settings.REDIS_URL:
        pytest.skip("needs PostgreSQL and Redis")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    h = Harness(tmp=tmp_path, queue=f"reliability-{uuid.uuid4().hex}", redis_url=settings.REDIS_URL, mail_dir=mail_dir)
    yield h
    for worker in h.workers:
        worker.kill()
    # The workers held connections to the test database; make sure they are gone before the flush.
    connection.close()


class TcpProxy:
    """A TCP forwarder in front of Redis that can be taken down and brought back on the same port:
    "Redis is down" for everyone who connects through it (worker and publisher alike)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
