"""``/ws/events/`` through the real ASGI stack (session cookie, origin check), in-memory layer."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session
from django.utils import timezone

from apps.realtime import services

from .conftest import communicator, connect_hello, emit, nothing_more, receive, receive_events

pytestmark = pytest.mark.django_db(transaction=True)


async def test_anonymous_socket_is_closed_with_4401() -> None:
    ws = communicator(None)
    connected, _ = await ws.connect()
    assert connected
    out = await ws.receive_output(timeout=2)
    assert out == {"type": "websocket.close", "code": 4401}


async def test_expired_session_is_closed_with_4401(officer_a: Any, session_key: Any) -> None:
    key = await session_key(officer_a)
    await database_sync_to_async(
        lambda: Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    )()
    ws = communicator(key)
    await ws.connect()
    assert await ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


@pytest.mark.parametrize(
    "hello",
    [{"type": "hello", "after": -1}, {"type": "hello", "after": "3"}, {"type": "hello", "device": "not-a-uuid"}],
)
async def test_a_malformed_hello_is_closed_with_4400(officer_a: Any, session_key: Any, hello: Any) -> None:
    ws = communicator(await session_key(officer_a))
    await ws.connect()
    await ws.send_json_to(hello)
    assert (await receive(ws))["type"] == "error"
    assert await ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4400}


async def test_non_json_frames_are_closed_with_4400(officer_a: Any, session_key: Any) -> None:
    ws = communicator(await session_key(officer_a))
    await ws.connect()
    await ws.send_to(text_data="hello?")
    assert (await receive(ws))["type"] == "error"
    assert await ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4400}


async def test_hello_replays_what_was_missed_then_streams_live_without_gap_or_duplicate(
    officer_a: Any, session_key: Any
) -> None:
    for n in range(1, 6):
        await emit("test.event", [officer_a], {"n": n})
    ws, welcome = await connect_hello(await session_key(officer_a), after=2)
    assert welcome == {"type": "welcome", "cursor": 2, "latest": 5, "reset": False}
    # Live events race the replay: emit while the replay is being read.
    await asyncio.gather(*(emit("test.event", [officer_a], {"n": n}) for n in range(6, 16)))
    frames = await receive_events(ws, 13)
    assert [f["cursor"] for f in frames] == list(range(3, 16))
    assert len({f["id"] for f in frames}) == 13
    assert await nothing_more(ws)
    await ws.disconnect()


async def test_events_sent_while_disconnected_arrive_once_in_order_on_reconnect(
    officer_a: Any, session_key: Any
) -> None:
    key = await session_key(officer_a)
    ws, _ = await connect_hello(key)
    await emit("test.event", [officer_a], {"n": 1})
    first = await receive_events(ws, 1)
    await ws.send_json_to({"type": "ack", "cursor": first[0]["cursor"]})
    await ws.disconnect()
    for n in range(2, 40):
        await emit("test.event", [officer_a], {"n": n})
    ws, welcome = await connect_hello(key, after=first[0]["cursor"])
    assert welcome["latest"] == 39
    frames = await receive_events(ws, 38)
    assert [f["data"]["n"] for f in frames] == list(range(2, 40))
    assert await nothing_more(ws)
    await ws.disconnect()


async def test_a_cursor_beyond_the_stream_restarts_from_zero(officer_a: Any, session_key: Any) -> None:
    await emit("test.event", [officer_a], {"n": 1})
    ws, welcome = await connect_hello(await session_key(officer_a), after=999)
    # Said explicitly: the client never infers a reset from a lower number (issue 18).
    assert welcome == {"type": "welcome", "cursor": 0, "latest": 1, "reset": True}
    assert [f["cursor"] for f in await receive_events(ws, 1)] == [1]
    await ws.disconnect()


async def test_a_dropped_doorbell_is_healed_by_the_next_one(officer_a: Any, session_key: Any, settings: Any) -> None:
    settings.EVENTS_BRIDGE_POLL_SECONDS = 3600  # take the embedded bridge out of the picture
    ws, _ = await connect_hello(await session_key(officer_a))
    real = services.group_send_many
    dropped: list[Any] = []

    async def lossy(layer: Any, messages: Any) -> None:
        if not dropped:
            dropped.append(messages)  # the layer may drop a message silently (at-most-once)
            return
        await real(layer, messages)

    with mock.patch.object(services, "group_send_many", lossy):
        await emit("test.event", [officer_a], {"n": 1})
        assert await nothing_more(ws, 0.3)
        await emit("test.event", [officer_a], {"n": 2})
        frames = await receive_events(ws, 2)
    assert dropped and [f["data"]["n"] for f in frames] == [1, 2]
    await ws.disconnect()


async def test_a_dropped_last_doorbell_is_healed_by_the_periodic_catch_up(
    officer_a: Any, session_key: Any, settings: Any
) -> None:
    settings.EVENTS_CATCHUP_SECONDS = 0.3
    settings.EVENTS_BRIDGE_POLL_SECONDS = 3600  # take the embedded bridge out of the picture
    ws, _ = await connect_hello(await session_key(officer_a))
    with mock.patch.object(services, "ring", lambda events: None):
        await emit("test.event", [officer_a], {"n": 1})
    frames = await receive_events(ws, 1, timeout=3)
    assert frames[0]["data"] == {"n": 1}
    await ws.disconnect()


async def test_the_embedded_bridge_carries_an_event_written_by_another_process(
    officer_a: Any, session_key: Any, settings: Any
) -> None:
    """A Celery worker's event rings no socket here (in-memory layer, other process): ring is a
    no-op for it. The bridge polls the log and rings locally, well before the 15 s catch-up."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}  # embedded default
    settings.EVENTS_CATCHUP_SECONDS = 60
    ws, _ = await connect_hello(await session_key(officer_a))
    with mock.patch.object(services, "ring", lambda events: None):
        await emit("test.event", [officer_a], {"n": 1})
    frames = await receive_events(ws, 1, timeout=2)
    assert frames[0]["event_type"] == "test.event"
    await ws.disconnect()


async def test_team_a_events_never_reach_team_b(
    officer_a: Any, clinician_a: Any, officer_b: Any, clinician_b: Any, session_key: Any
) -> None:
    ws_b, _ = await connect_hello(await session_key(officer_b))
    ws_b2, _ = await connect_hello(await session_key(clinician_b))
    ws_a, _ = await connect_hello(await session_key(officer_a))
    await emit("test.event", [officer_a, clinician_a], {"incident_id": 7})
    assert (await receive_events(ws_a, 1))[0]["data"] == {"incident_id": 7}
    assert await nothing_more(ws_b)
    assert await nothing_more(ws_b2)
    for ws in (ws_a, ws_b, ws_b2):
        await ws.disconnect()


async def test_server_pings_and_closes_a_silent_client_with_4408(
    officer_a: Any, session_key: Any, settings: Any
) -> None:
    settings.EVENTS_HEARTBEAT_SECONDS = 0.2
    ws, _ = await connect_hello(await session_key(officer_a))
    assert json.loads(await ws.receive_from(timeout=2)) == {"type": "ping"}
    # Say nothing: after 3 heartbeats of silence the server gives up on the socket.
    while True:
        out = await ws.receive_output(timeout=3)
        if out["type"] == "websocket.close":
            assert out["code"] == 4408
            break


async def test_a_client_answering_pings_is_kept(officer_a: Any, session_key: Any, settings: Any) -> None:
    settings.EVENTS_HEARTBEAT_SECONDS = 0.2
    ws, _ = await connect_hello(await session_key(officer_a))
    for _ in range(8):
        assert json.loads(await ws.receive_from(timeout=2)) == {"type": "ping"}
        await ws.send_json_to({"type": "pong"})
    await emit("test.event", [officer_a], {"n": 1})
    assert (await receive_events(ws, 1))[0]["data"] == {"n": 1}
    await ws.disconnect()


async def test_client_ping_gets_pong(officer_a: Any, session_key: Any) -> None:
    ws, _ = await connect_hello(await session_key(officer_a))
    await ws.send_json_to({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}
    await ws.disconnect()


async def test_a_session_signed_out_elsewhere_closes_the_socket_with_4401(
    officer_a: Any, session_key: Any, settings: Any
) -> None:
    settings.EVENTS_CATCHUP_SECONDS = 0.2
    settings.EVENTS_HEARTBEAT_SECONDS = 0.2
    key = await session_key(officer_a)
    ws, _ = await connect_hello(key)
    await database_sync_to_async(lambda: Session.objects.filter(session_key=key).delete())()
    while True:
        out = await ws.receive_output(timeout=3)
        if out["type"] == "websocket.close":
            assert out["code"] == 4401
            break
        await ws.send_json_to({"type": "pong"})


async def test_a_revoked_device_is_refused_with_4401(officer_a: Any, session_key: Any) -> None:
    from apps.realtime.models import Device

    device = uuid.uuid4()
    await database_sync_to_async(
        lambda: Device.objects.create(id=device, user=officer_a, last_seen_at=timezone.now(), revoked_at=timezone.now())
    )()
    ws = communicator(await session_key(officer_a))
    await ws.connect()
    await ws.send_json_to({"type": "hello", "after": 0, "device": str(device)})
    assert (await receive(ws))["type"] == "error"
    assert await ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_another_users_device_id_is_refused_with_4400(officer_a: Any, clinician_a: Any, session_key: Any) -> None:
    device = str(uuid.uuid4())
    ws, _ = await connect_hello(await session_key(officer_a), device=device)
    await ws.disconnect()
    ws = communicator(await session_key(clinician_a))
    await ws.connect()
    await ws.send_json_to({"type": "hello", "after": 0, "device": device})
    assert (await receive(ws))["type"] == "error"
    assert await ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4400}


async def test_a_device_revoked_while_connected_is_closed_with_4401(
    officer_a: Any, session_key: Any, settings: Any
) -> None:
    from apps.realtime.models import Device

    settings.EVENTS_CATCHUP_SECONDS = 0.2
    device = uuid.uuid4()
    ws, _ = await connect_hello(await session_key(officer_a), device=str(device))
    # Only the row changes (no close message): the sweeper's re-check is the safety net that closes it.
    # The full lost-phone service (apps.security.sessions.device_revoke) is tested in apps/security.
    await database_sync_to_async(lambda: Device.objects.filter(pk=device).update(revoked_at=timezone.now()))()
    while True:
        out = await ws.receive_output(timeout=3)
        if out["type"] == "websocket.close":
            assert out["code"] == 4401
            break
