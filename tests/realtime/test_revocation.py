"""A revoked session's live WebSocket closes within seconds, across real processes: the supervisor's
revoke is an HTTP call to uvicorn process A, the phone's socket is on process B, Redis carries the
close message. The sweeper's safety net is set to 60 s, so a close within 2 s is the message's."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.test import Client as DjangoClient

from apps.security.testing import mfa_force_login

from .harness import Client, ThrowawayRedis, server_env, servers
from .test_scale_out import Clients, database_url, session_of

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_server() -> Iterator[ThrowawayRedis]:
    r = ThrowawayRedis()
    r.start()
    yield r
    r.kill()


@pytest.fixture
def clients() -> Iterator[Clients]:
    c = Clients()
    yield c
    c.close()


def closed_4401(client: Client) -> Callable[[], bool]:
    return lambda: 4401 in client.closes


def supervisor_http(port: int, supervisor: Any) -> httpx.Client:
    key = str(mfa_force_login(DjangoClient(), supervisor).cookies["sessionid"].value)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={"sessionid": key}, timeout=10)
    token = http.get("/api/v1/auth/csrf/").json()["csrfToken"]
    http.headers.update({"X-CSRFToken": token, "Origin": f"http://127.0.0.1:{port}"})
    return http


def test_a_lost_phone_revoke_on_one_process_closes_the_socket_on_another_within_seconds(
    redis_server: ThrowawayRedis,
    clients: Clients,
    make_user: Any,
    supervisor: Any,
    tmp_path: Any,
    capsys: Any,
) -> None:
    env = server_env(database_url(), redis_server.url, EVENTS_CATCHUP_SECONDS="60")
    latencies: list[float] = []
    with servers(2, env, tmp_path) as (a, b):
        http = supervisor_http(a.port, supervisor)
        for n in range(5):
            officer = make_user(f"officer_lost_{n}", "officer")
            phone = clients.add(b.port, session_of(officer), f"officer{n}@B")
            clients.wait(phone.connected.is_set, 15)
            assert phone.connected.is_set(), (phone.connects, phone.closes)
            started = time.time()
            response = http.post(f"/api/v1/security/users/{officer.pk}/revoke-devices/")
            assert response.status_code == 200, response.text
            assert response.json()["sessions_revoked"] == 1
            assert clients.wait(closed_4401(phone), 2.0), phone.closes
            latencies.append(phone.closed_at[phone.closes.index(4401)] - started)
        http.close()
    with capsys.disabled():
        print(f"\nrevoke call → close frame (ms): {[round(x * 1000, 1) for x in latencies]}")
    assert max(latencies) < 2.0
