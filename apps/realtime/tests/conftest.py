"""Helpers for socket tests: a signed-in WebSocket through the real ASGI stack, and emitting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from apps.realtime import registry
from apps.realtime.services import event_emit

# An offer-like event type for the delivery engine's own tests: it takes receipts and any payload.
# (assignment.offered belongs to apps.incidents, with its schema; these tests are not about it.)
TEST_OFFER = "test.offer"


@pytest.fixture(autouse=True)
def test_offer_type(settings: Any) -> Iterator[str]:
    event_type = registry.EventType(
        TEST_OFFER, "Tests of receipts and escalation: any payload.", registry.obj(extra=True)
    )
    registry.register(event_type)
    settings.REALTIME_RECEIPT_EVENT_TYPES = [*settings.REALTIME_RECEIPT_EVENT_TYPES, TEST_OFFER]
    yield TEST_OFFER
    registry.registry.unregister(TEST_OFFER)


def session_key_for(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


def communicator(session_key: str | None, path: str = "/ws/events/") -> WebsocketCommunicator:
    from durham_coresponse.asgi import application

    headers = [(b"origin", b"http://127.0.0.1"), (b"user-agent", b"pytest")]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def emit_sync(type: str, recipients: Iterable[Any], data: Any) -> list[Any]:
    with transaction.atomic():
        return event_emit(type=type, recipients=recipients, data=data)


emit = database_sync_to_async(emit_sync)


async def receive(ws: WebsocketCommunicator, timeout: float = 3.0) -> dict[str, Any]:
    """Next frame that is not a heartbeat."""
    while True:
        frame = json.loads(await ws.receive_from(timeout=timeout))
        if frame.get("type") != "ping":
            return dict(frame)


async def receive_events(ws: WebsocketCommunicator, n: int, timeout: float = 3.0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < n:
        frame = await receive(ws, timeout=timeout)
        if frame["type"] == "event":
            out.append(frame)
    return out


async def nothing_more(ws: WebsocketCommunicator, within: float = 0.5) -> bool:
    """True if nothing but heartbeats arrives within ``within`` s (without cancelling the app,
    unlike a receive timeout). Pings come at a random offset, so they are ignored."""
    await asyncio.sleep(within)
    while not ws.output_queue.empty():
        message = ws.output_queue.get_nowait()
        if message.get("type") != "websocket.send" or json.loads(message["text"]).get("type") != "ping":
            return False
    return True


async def connect_hello(
    session_key: str, after: int = 0, device: str | None = None
) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    ws = communicator(session_key)
    connected, _ = await ws.connect()
    assert connected
    hello: dict[str, Any] = {"type": "hello", "after": after}
    if device:
        hello["device"] = device
    await ws.send_json_to(hello)
    welcome = await receive(ws)
    assert welcome["type"] == "welcome", welcome
    return ws, welcome


@pytest.fixture
def session_key() -> Callable[[Any], Any]:
    """``await session_key(user)``: a signed-in session's key."""
    make: Callable[[Any], Any] = database_sync_to_async(session_key_for)
    return make


@pytest.fixture(autouse=True)
def role_groups(db: Any) -> None:
    """A ``transaction=True`` test flushes the tables, including the role groups the accounts
    migration created; the next test's personas would silently get no role. Recreate them."""
    from django.contrib.auth.models import Group

    from apps.accounts.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)
