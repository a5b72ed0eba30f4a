"""Per-device receipts over the socket, and the idle-socket regression (redis-py 8 socket_timeout)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from apps.realtime.escalation import escalation_start
from apps.realtime.models import Escalation, Receipt
from apps.realtime.services import event_emit

from .conftest import TEST_OFFER, connect_hello, emit, nothing_more, receive, receive_events

pytestmark = pytest.mark.django_db(transaction=True)


def offer_to_sync(users: list[Any]) -> Escalation:
    with transaction.atomic():
        events = event_emit(type=TEST_OFFER, recipients=users, data={"incident_id": 3})
        return escalation_start(subject="test:3", event_uid=events[0].uid, recipients=users)


offer_to = database_sync_to_async(offer_to_sync)


async def test_ack_and_seen_on_the_socket_are_recorded_per_device_and_shown_live_to_dispatchers(
    officer_a: Any, clinician_a: Any, dispatcher: Any, session_key: Any
) -> None:
    device = str(uuid.uuid4())
    board, _ = await connect_hello(await session_key(dispatcher))
    phone, _ = await connect_hello(await session_key(officer_a), device=device)
    esc = await offer_to([officer_a, clinician_a])
    (frame,) = await receive_events(phone, 1)
    await phone.send_json_to({"type": "ack", "cursor": frame["cursor"]})
    (delivered,) = await receive_events(board, 1)
    assert delivered["event_type"] == "delivery.updated"
    assert delivered["data"]["device_id"] == device and delivered["data"]["seen_at"] is None
    await phone.send_json_to({"type": "seen", "cursor": frame["cursor"]})
    (seen,) = await receive_events(board, 1)
    assert seen["data"]["seen_at"] and seen["data"]["subject"] == "test:3"
    receipt = await database_sync_to_async(Receipt.objects.get)(device_id=device)
    assert receipt.delivered_at and receipt.seen_at
    await database_sync_to_async(esc.refresh_from_db)()
    assert esc.acknowledged_at is not None
    for ws in (board, phone):
        await ws.disconnect()


async def test_an_ack_naming_the_event_is_confirmed_once_stored_and_a_resend_changes_nothing(
    officer_a: Any, clinician_a: Any, dispatcher: Any, session_key: Any
) -> None:
    """Receipts that always land (issue 18): the client keeps a receipt until this confirmation."""
    device = str(uuid.uuid4())
    board, _ = await connect_hello(await session_key(dispatcher))
    phone, _ = await connect_hello(await session_key(officer_a), device=device)
    await offer_to([officer_a, clinician_a])
    (frame,) = await receive_events(phone, 1)
    assert frame["receipt"] is True  # the client keeps a receipt for it until confirmed
    ack = {"type": "ack", "cursor": frame["cursor"], "id": frame["id"]}
    await phone.send_json_to(ack)
    confirmed = await receive(phone)
    assert confirmed == {"type": "receipt", "id": frame["id"], "cursor": frame["cursor"], "stage": "delivered",
                         "recorded": True}  # fmt: skip
    (updated,) = await receive_events(board, 1)
    assert updated["data"]["device_id"] == device
    # Sent again (the confirmation was lost with the socket): confirmed again, nothing new for the board.
    await phone.send_json_to(ack)
    assert await receive(phone) == confirmed
    assert await nothing_more(board)
    assert await database_sync_to_async(Receipt.objects.filter(device_id=device).count)() == 1
    # An id that is not in this user's stream: refused for good, so the client forgets it.
    await phone.send_json_to({"type": "ack", "cursor": 99, "id": str(uuid.uuid4())})
    refused = await receive(phone)
    assert refused["type"] == "receipt" and refused["recorded"] is False and refused["message"]
    for ws in (board, phone):
        await ws.disconnect()


async def test_an_ack_naming_an_event_that_takes_no_receipt_is_confirmed_as_not_recorded(
    officer_a: Any, session_key: Any
) -> None:
    ws, _ = await connect_hello(await session_key(officer_a), device=str(uuid.uuid4()))
    await emit("test.event", [officer_a], {"n": 1})
    (frame,) = await receive_events(ws, 1)
    assert frame["receipt"] is False
    await ws.send_json_to({"type": "seen", "cursor": frame["cursor"], "id": frame["id"]})
    answer = await receive(ws)
    assert answer["type"] == "receipt" and answer["recorded"] is False and answer["stage"] == "seen"
    assert not await database_sync_to_async(Receipt.objects.exists)()
    await ws.disconnect()


async def test_acks_of_ordinary_events_write_nothing(officer_a: Any, session_key: Any) -> None:
    ws, _ = await connect_hello(await session_key(officer_a), device=str(uuid.uuid4()))
    await emit("test.event", [officer_a], {"n": 1})
    (frame,) = await receive_events(ws, 1)
    await ws.send_json_to({"type": "ack", "cursor": frame["cursor"]})
    await ws.send_json_to({"type": "ping"})
    assert (await receive(ws))["type"] == "pong"
    assert not await database_sync_to_async(Receipt.objects.exists)()
    await ws.disconnect()


async def test_a_bad_ack_is_closed_with_4400(officer_a: Any, session_key: Any) -> None:
    ws, _ = await connect_hello(await session_key(officer_a))
    await ws.send_json_to({"type": "ack", "cursor": "7"})
    assert (await receive(ws))["type"] == "error"
    assert await ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4400}


@pytest.mark.redis
async def test_an_idle_socket_held_15s_still_receives_through_redis(
    officer_a: Any, session_key: Any, settings: Any
) -> None:
    """redis-py 8's default 5 s socket_timeout cut idle channel-layer reads (PITFALLS.md); settings
    set it to None. Catch-up and heartbeats are pushed out of the window so only the doorbell counts."""
    settings.EVENTS_CATCHUP_SECONDS = 3600
    settings.EVENTS_HEARTBEAT_SECONDS = 3600
    assert "Redis" in settings.CHANNEL_LAYERS["default"]["BACKEND"]
    ws, _ = await connect_hello(await session_key(officer_a))
    await asyncio.sleep(15)
    await emit("test.event", [officer_a], {"n": 1})
    (frame,) = await receive_events(ws, 1, timeout=2)
    assert frame["data"] == {"n": 1}
    await ws.disconnect()
