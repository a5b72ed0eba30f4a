"""A client that vanishes while the server is sending (uvicorn raises ``ClientDisconnected``, an
OSError, and then never calls ``disconnect()``) must not leave a zombie consumer behind: still in the
sweeper, heartbeat running forever, still in its groups (found by the 12-hour-limit e2e test)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.exceptions import StopConsumer
from channels.layers import InMemoryChannelLayer

from apps.realtime import sweeper
from apps.realtime.consumers import EventsConsumer


class ClientGone(OSError):
    """Stands in for uvicorn's ClientDisconnected (an OSError subclass)."""


async def _client_gone(message: Any) -> None:
    raise ClientGone("client disconnected")


async def _consumer() -> tuple[EventsConsumer, InMemoryChannelLayer]:
    layer = InMemoryChannelLayer()
    consumer = EventsConsumer()
    consumer.channel_layer = layer
    consumer.channel_name = await layer.new_channel()
    consumer.user_id = 1
    consumer.group = "user.1"
    consumer.extra_groups = ["security.session.7"]
    for group in (consumer.group, *consumer.extra_groups):
        await layer.group_add(group, consumer.channel_name)
    consumer.base_send = _client_gone
    consumer.ticker = asyncio.ensure_future(asyncio.sleep(3600))
    sweeper._live.add(consumer)  # as register() does, without starting the sweep loop
    return consumer, layer


def _released(consumer: EventsConsumer, layer: InMemoryChannelLayer) -> bool:
    in_groups = any(consumer.channel_name in members for members in layer.groups.values())
    return consumer not in sweeper._live and consumer.ticker.cancelled() and not in_groups


async def test_a_revoke_message_to_a_vanished_client_releases_the_consumer() -> None:
    consumer, layer = await _consumer()
    await consumer.dispatch({"type": "sockets.close", "access": "closed"})  # the close fails: released, no raise
    assert _released(consumer, layer)


async def test_an_event_sent_to_a_vanished_client_releases_and_stops_the_consumer() -> None:
    consumer, layer = await _consumer()
    consumer.cursor = 0
    consumer.lock = asyncio.Lock()
    consumer.receipt_types = frozenset()
    consumer.sent_untracked = set()
    frame = {"type": "event", "cursor": 1, "event_type": "incident.updated", "data": {}}
    with pytest.raises(StopConsumer):
        await consumer.dispatch({"type": "events.ready", "frame": frame})
    assert _released(consumer, layer)


async def test_the_sweeper_closing_a_vanished_client_releases_it_without_raising() -> None:
    consumer, layer = await _consumer()
    await consumer.session_ended()
    assert _released(consumer, layer)
    consumer2, layer2 = await _consumer()
    await consumer2.session_locked()
    assert _released(consumer2, layer2)


async def test_a_live_client_is_not_released_by_a_close() -> None:
    sent: list[Any] = []

    async def ok(message: Any) -> None:
        sent.append(message)

    consumer, _layer = await _consumer()
    consumer.base_send = ok
    await consumer.session_ended()
    assert [m["type"] for m in sent] == ["websocket.close"]
    assert sent[0]["code"] == 4401
    assert consumer in sweeper._live  # disconnect() comes when the client acknowledges the close
    sweeper._live.discard(consumer)
    consumer.ticker.cancel()
