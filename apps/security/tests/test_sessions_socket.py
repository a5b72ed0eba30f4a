"""Session rules on ``/ws/events/`` through the real ASGI stack (in-memory layer): refused at connect
when expired / revoked (4401) or locked (4423); a live socket closes at once on revoke or lock, and at
the sweeper's next round when the message is lost."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from apps.realtime import sweeper
from apps.realtime.tests.conftest import communicator, connect_hello, session_key_for
from apps.security import sessions
from apps.security.models import UserSession

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def role_groups(db: Any) -> None:
    from django.contrib.auth.models import Group

    from apps.accounts.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


key_of = database_sync_to_async(session_key_for)


def _row_of(key: str) -> UserSession:
    return UserSession.objects.get(session_key=key)


def _age(key: str, **delta: float) -> None:
    """Move the session's clock back: sign-in and last activity ``delta`` ago."""
    past = timezone.now() - dt.timedelta(**delta)
    UserSession.objects.filter(session_key=key).update(created_at=past, last_activity_at=past)


row_of = database_sync_to_async(_row_of)
age = database_sync_to_async(_age)


async def closed_with(ws: Any, timeout: float = 2.0) -> int:
    while True:
        out = await ws.receive_output(timeout=timeout)
        if out["type"] == "websocket.close":
            return int(out["code"])


async def test_a_locked_session_cannot_connect_and_gets_4423(officer_a: Any) -> None:
    key = await key_of(officer_a)
    await age(key, minutes=31)
    ws = communicator(key)
    await ws.connect()
    assert await closed_with(ws) == 4423


async def test_an_expired_session_cannot_connect_and_gets_4401(officer_a: Any) -> None:
    key = await key_of(officer_a)
    await age(key, hours=12, seconds=1)
    ws = communicator(key)
    await ws.connect()
    assert await closed_with(ws) == 4401


async def test_a_revoked_session_cannot_connect(officer_a: Any) -> None:
    key = await key_of(officer_a)
    row = await row_of(key)
    await database_sync_to_async(sessions.session_revoke)(session_id=row.pk, by=officer_a)
    ws = communicator(key)
    await ws.connect()
    assert await closed_with(ws) == 4401


async def test_sign_out_this_device_closes_its_live_socket_at_once(officer_a: Any) -> None:
    key = await key_of(officer_a)
    other = await key_of(officer_a)
    ws, _ = await connect_hello(key)
    stays, _ = await connect_hello(other)
    row = await row_of(key)
    started = time.monotonic()
    await database_sync_to_async(sessions.session_revoke)(session_id=row.pk, by=officer_a)
    assert await closed_with(ws) == 4401
    assert time.monotonic() - started < 1.0
    await stays.send_json_to({"type": "ping"})
    assert (await stays.receive_json_from(timeout=2))["type"] in ("pong", "ping")
    await stays.disconnect()


async def test_the_lost_phone_revoke_closes_the_devices_socket(officer_a: Any, supervisor: Any) -> None:
    key = await key_of(officer_a)
    device = str(uuid.uuid4())
    ws, _ = await connect_hello(key, device=device)
    assert (await row_of(key)).device_id == uuid.UUID(device)  # the hello linked the session
    result = await database_sync_to_async(sessions.device_revoke)(device_id=uuid.UUID(device), by=supervisor)
    assert result.sessions_revoked == 1 and result.devices_revoked == 1
    assert await closed_with(ws) == 4401


async def test_locking_closes_the_live_socket_with_4423(officer_a: Any) -> None:
    key = await key_of(officer_a)
    ws, _ = await connect_hello(key)
    row = await row_of(key)
    await database_sync_to_async(sessions.session_lock)(row=row, reason="client")
    assert await closed_with(ws) == 4423


async def test_the_sweeper_closes_sockets_whose_message_was_lost(officer_a: Any, officer_b: Any) -> None:
    idle = await key_of(officer_a)
    ended = await key_of(officer_b)
    ws_idle, _ = await connect_hello(idle)
    ws_ended, _ = await connect_hello(ended)
    # Changed behind the channel layer's back: no message reaches the sockets.
    await age(idle, minutes=31)
    await database_sync_to_async(
        lambda: UserSession.objects.filter(session_key=ended).update(ended_at=timezone.now())
    )()
    await sweeper.sweep_once()
    assert await closed_with(ws_idle) == 4423
    assert await closed_with(ws_ended) == 4401
