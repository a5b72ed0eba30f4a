"""Several real processes sharing PostgreSQL and Redis: uvicorn servers, a Celery worker, and a
throwaway ``redis-server`` that the tests kill and restart (never the shared one on 6379).

Clients are real WebSocket clients (``websockets``) that resume from their cursor; each records every
frame it receives, so "exactly once" is checked by event id, duplicates included.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.db import connection, transaction
from django.test import Client as DjangoClient
from django.utils import timezone

from apps.realtime.services import event_emit

from .harness import BIN, ROOT, Client, ThrowawayRedis, server_env, servers

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def session_of(user: Any) -> str:
    c = DjangoClient()
    c.force_login(user)
    return str(c.cookies["sessionid"].value)


class Clients:
    """Runs clients on an event loop in a background thread; the test thread stays synchronous
    (it owns the database connection)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.clients: list[Client] = []
        self.tasks: list[Any] = []

    def add(self, port: int, session_key: str, name: str = "") -> Client:
        async def make() -> Client:
            return Client(port=port, session_key=session_key, name=name)

        client = asyncio.run_coroutine_threadsafe(make(), self.loop).result()
        self.clients.append(client)
        self.tasks.append(asyncio.run_coroutine_threadsafe(client.run(), self.loop))
        return client

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def all_connected(self, timeout: float = 15) -> None:
        assert self.wait(lambda: all(c.connected.is_set() for c in self.clients), timeout), [
            (c.name, c.connects, c.closes) for c in self.clients
        ]

    def close(self) -> None:
        for c in self.clients:
            c.stop()
        for t in self.tasks:
            t.cancel()
        time.sleep(0.2)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@pytest.fixture
def redis_server() -> Iterator[ThrowawayRedis]:
    r = ThrowawayRedis()
    r.start()
    yield r
    r.kill()


@pytest.fixture
def layer_on(settings: Any) -> Callable[[str], None]:
    """Point this (test) process's channel layer at a given Redis: it plays the worker/emitter."""

    def point(url: str) -> None:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [{"address": url, "socket_timeout": None}], "capacity": 1500, "expiry": 30},
            }
        }

    return point


@pytest.fixture
def clients() -> Iterator[Clients]:
    c = Clients()
    yield c
    c.close()


# A payload valid for apps/incidents/events.py (the server processes take receipts for this type).
OFFER_DATA: dict[str, Any] = {
    "incident_id": 1,
    "incident_status": "Active",
    "call_type": "EDP",
    "call_type_common": "",
    "priority": 5,
    "address": "",
    "beat": "",
    "safety": {
        "weapon_present": False,
        "weapon_kind": "",
        "violence_toward_responders": False,
        "substances_involved": False,
        "premise_hazards": "",
    },
    "assignment_id": 1,
    "status": "offered",
    "team_id": 1,
    "team_call_sign": "CR-A",
}


def emit(users: list[Any], n: int, type: str = "test.event") -> None:
    with transaction.atomic():
        event_emit(type=type, recipients=users, data={"n": n, "committed_at": time.time()})


def assert_exactly_once_in_order(client: Client, expected_n: int) -> None:
    ns = [f["data"]["n"] for f in client.frames]
    assert len(client.ids) == len(set(client.ids)), (
        f"{client.name}: duplicates {len(client.ids) - len(set(client.ids))}"
    )
    assert ns == list(range(expected_n)), f"{client.name}: got {len(ns)} of {expected_n}"
    cursors = [f["cursor"] for f in client.frames]
    assert cursors == sorted(cursors)


def test_an_api_call_on_process_a_reaches_a_client_on_process_b(
    redis_server: ThrowawayRedis, clients: Clients, officer_a: Any, dispatcher: Any, tmp_path: Any
) -> None:
    from apps.accounts.models import ApiKey, ApiKeyScope
    from apps.realtime.models import Device

    env = server_env(database_url(), redis_server.url, EVENTS_CATCHUP_SECONDS="60")
    with transaction.atomic():
        (offer,) = event_emit(type="assignment.offered", recipients=[officer_a], data=OFFER_DATA)
    device = Device.objects.create(id=uuid.uuid4(), user=officer_a, last_seen_at=timezone.now())
    _key, secret = ApiKey.generate(name="test", user=officer_a, scopes=[ApiKeyScope.API_WRITE])
    with servers(2, env, tmp_path) as (a, b):
        board = clients.add(b.port, session_of(dispatcher), "dispatcher@B")
        clients.all_connected()
        response = httpx.post(
            f"http://127.0.0.1:{a.port}/api/v1/events/receipts/",
            json={"device": str(device.pk), "stage": "seen", "cursor": offer.seq},
            headers={"Authorization": f"Api-Key {secret}", "Origin": f"http://127.0.0.1:{a.port}"},
        )
        assert response.status_code == 200, response.text
        # The catch-up is 60 s here: arriving within 3 s means the Redis doorbell crossed processes.
        assert clients.wait(lambda: len(board.frames) == 1, 3), board.frames
    assert board.frames[0]["event_type"] == "delivery.updated"
    assert board.frames[0]["data"]["device_id"] == str(device.pk)


def test_a_celery_workers_event_reaches_clients_on_both_processes(
    redis_server: ThrowawayRedis, clients: Clients, officer_a: Any, dispatcher: Any, supervisor: Any, tmp_path: Any
) -> None:
    from celery import Celery

    from apps.realtime.escalation import escalation_start

    env = server_env(database_url(), redis_server.url, EVENTS_CATCHUP_SECONDS="60")
    with transaction.atomic():
        (offer,) = event_emit(type="assignment.offered", recipients=[officer_a], data=OFFER_DATA)
        escalation_start(
            subject="test:1", event_uid=offer.uid, recipients=[officer_a], at=timezone.now() - dt.timedelta(seconds=70)
        )
    worker_log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            str(BIN / "celery"),
            "-A",
            "durham_coresponse",
            "worker",
            "-P",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=worker_log,
    )
    try:
        with servers(2, env, tmp_path) as (a, b):
            on_a = clients.add(a.port, session_of(dispatcher), "dispatcher@A")
            on_b = clients.add(b.port, session_of(supervisor), "supervisor@B")
            clients.all_connected()
            log = tmp_path / "worker.log"
            assert clients.wait(lambda: " ready." in log.read_text(errors="replace"), 60), log.read_text()[-2000:]
            Celery(broker=redis_server.url).send_task("apps.realtime.tasks.escalation_sweep_task")
            got = clients.wait(lambda: len(on_a.frames) >= 2 and len(on_b.frames) >= 2, 10)
            assert got, (on_a.frames, on_b.frames, log.read_text()[-2000:])
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    for c in (on_a, on_b):
        assert [f["event_type"] for f in c.frames] == ["delivery.escalated", "delivery.alert"]


@pytest.mark.parametrize("failure", ["redis_restart", "asgi_kill"])
def test_after_a_failure_mid_stream_every_client_has_every_event_exactly_once(
    failure: str,
    redis_server: ThrowawayRedis,
    clients: Clients,
    layer_on: Callable[[str], None],
    make_user: Callable[..., Any],
    tmp_path: Any,
) -> None:
    layer_on(redis_server.url)
    users = [make_user(f"officer{i}", "officer") for i in range(6)]
    env = server_env(database_url(), redis_server.url, EVENTS_CATCHUP_SECONDS="1")
    total = 60
    with servers(2, env, tmp_path) as (a, b):
        cs = [
            clients.add((a, b)[i % 2].port, session_of(u), f"{u.username}@{'AB'[i % 2]}") for i, u in enumerate(users)
        ]
        clients.all_connected()
        for n in range(total):
            emit(users, n)
            if n == total // 3:
                if failure == "redis_restart":
                    redis_server.restart(down_for=0.5)
                else:
                    a.kill()
            if n == total // 2 and failure == "asgi_kill":
                a.start()
            time.sleep(0.05)
        done = clients.wait(lambda: all(len(c.frames) >= total for c in cs), 30)
        time.sleep(0.5)  # anything extra (a duplicate) would arrive now
    assert done, [(c.name, len(c.frames), c.connects, c.closes) for c in cs]
    for c in cs:
        assert_exactly_once_in_order(c, total)
    if failure == "asgi_kill":
        assert all(c.connects >= 2 for c in cs[0::2])  # the clients of A really reconnected


def test_embedded_default_a_worker_event_reaches_the_browser_through_the_bridge(
    clients: Clients, officer_a: Any, tmp_path: Any
) -> None:
    """No Redis: the web process has the in-memory layer; this test process (the "worker") cannot
    ring it. The bridge polls the event log and delivers well within the 60 s catch-up."""
    env = server_env(database_url(), None, EVENTS_CATCHUP_SECONDS="60")
    with servers(1, env, tmp_path) as (a,):
        c = clients.add(a.port, session_of(officer_a), "officer@embedded")
        clients.all_connected()
        started = time.monotonic()
        emit([officer_a], 0)
        assert clients.wait(lambda: len(c.frames) == 1, 5)
        assert time.monotonic() - started < 3
