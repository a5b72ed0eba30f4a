"""A channel layer that fails (Redis killed) must not end any socket (issue 18, finding 3).

``FlakyLayer`` is the in-memory layer with a switch: while "down" every receive, group_add, group_send
and group_discard raises ``ConnectionError`` (what channels-redis raises when Redis is gone), and
coming back forgets every group membership (a Redis restart without persistence). The real-Redis
version of this is tests/realtime/test_chaos.py.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import pytest
from channels.layers import InMemoryChannelLayer

from apps.realtime import bridge, sweeper
from apps.realtime import layer as layer_health

from .conftest import connect_hello, emit, nothing_more, receive, receive_events

pytestmark = pytest.mark.django_db(transaction=True)


class FlakyLayer(InMemoryChannelLayer):  # type: ignore[misc]
    down: ClassVar[bool] = False
    instances: ClassVar[list[FlakyLayer]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        FlakyLayer.instances.append(self)

    def _check(self) -> None:
        if FlakyLayer.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    async def receive(self, channel: str) -> Any:
        # A receive blocked in Redis fails when Redis dies: poll the switch while waiting.
        while True:
            self._check()
            try:
                return await asyncio.wait_for(super().receive(channel), 0.05)
            except TimeoutError:
                continue

    async def group_add(self, group: str, channel: str) -> None:
        self._check()
        await super().group_add(group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        self._check()
        await super().group_discard(group, channel)

    async def group_send(self, group: str, message: Any) -> None:
        self._check()
        await super().group_send(group, message)

    @classmethod
    def fail(cls) -> None:
        cls.down = True

    @classmethod
    def restart(cls) -> None:
        """Back, with every group membership forgotten."""
        for layer in cls.instances:
            layer.groups.clear()
        cls.down = False


@pytest.fixture
def flaky(settings: Any, monkeypatch: Any) -> Any:
    # Loading the ASGI application sets up Django's logging again, which would drop caplog's handler
    # if it happened inside the test: load it first.
    import durham_coresponse.asgi  # noqa: F401

    FlakyLayer.down = False
    FlakyLayer.instances = []
    layer_health.reset_for_tests()
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.FlakyLayer"}}
    # Only the doorbell or the degraded poll can deliver: the full sweep is out of the window.
    settings.EVENTS_CATCHUP_SECONDS = 3600
    settings.EVENTS_DEGRADED_POLL_SECONDS = 0.2
    # The embedded bridge (in-memory layers only) would poll too; production's Redis layer has none.
    monkeypatch.setattr(bridge, "ensure_running", lambda layer: None)
    yield FlakyLayer
    FlakyLayer.down = False
    layer_health.reset_for_tests()


def _closed(ws: Any) -> bool:
    return any(m.get("type") == "websocket.close" for m in list(ws.output_queue._queue))


async def test_sockets_ride_out_a_layer_outage_served_from_the_database_then_rejoin_their_groups(
    flaky: Any, officer_a: Any, clinician_a: Any, session_key: Any, caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    a, _ = await connect_hello(await session_key(officer_a))
    b, _ = await connect_hello(await session_key(clinician_a))
    await emit("test.event", [officer_a, clinician_a], {"n": 1})
    assert [f["data"]["n"] for f in await receive_events(a, 1)] == [1]
    assert [f["data"]["n"] for f in await receive_events(b, 1)] == [1]

    flaky.fail()
    await asyncio.sleep(0.3)  # every receive loop has hit the failure by now
    # Committed while the layer is down (the ring fails too): served by the degraded poll.
    await emit("test.event", [officer_a, clinician_a], {"n": 2})
    assert [f["data"]["n"] for f in await receive_events(a, 1, timeout=3)] == [2]
    assert [f["data"]["n"] for f in await receive_events(b, 1, timeout=3)] == [2]
    # A socket that connects during the outage is accepted, welcomed and served too.
    c, welcome = await connect_hello(await session_key(officer_a), after=2)
    assert welcome["cursor"] == 2 and welcome["reset"] is False
    await emit("test.event", [officer_a], {"n": 3})
    assert [f["data"]["n"] for f in await receive_events(c, 1, timeout=3)] == [3]
    assert [f["data"]["n"] for f in await receive_events(a, 1, timeout=3)] == [3]
    assert layer_health.is_down()

    flaky.restart()  # back, with every membership forgotten
    assert await _wait(lambda: not layer_health.is_down(), 3)
    # The layer is up, so the sweeper is back to its (hour-long) rounds: this arrives only because
    # the groups were re-joined and the doorbell rang.
    await emit("test.event", [officer_a, clinician_a], {"n": 4})
    assert [f["data"]["n"] for f in await receive_events(a, 1, timeout=2)] == [4]
    assert [f["data"]["n"] for f in await receive_events(b, 1, timeout=2)] == [4]
    assert [f["data"]["n"] for f in await receive_events(c, 1, timeout=2)] == [4]
    for ws in (a, b, c):
        assert await nothing_more(ws, 0.3)  # no duplicate from the poll and the doorbell
        assert not _closed(ws)
        await ws.send_json_to({"type": "ping"})
        assert (await receive(ws))["type"] == "pong"  # still open and served

    # One warning when it went down, one when it came back; no error, no traceback per socket.
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("apps.realtime")]
    down = [r for r in warnings if "channel layer unavailable (" in r.getMessage()]
    back = [r for r in warnings if "channel layer back after" in r.getMessage()]
    assert len(down) == 1 and len(back) == 1, [r.getMessage() for r in warnings]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    # The sender (ring) logs its own pair, once each, with one traceback for the first failure.
    senders = [r for r in warnings if r not in down + back]
    assert [r.getMessage()[:40] for r in senders] == [
        "channel layer unavailable for sending; 2",
        "channel layer reachable again for sendin",
    ], [r.getMessage() for r in senders]
    for ws in (a, b, c):
        await ws.disconnect()


async def test_a_consumer_that_fails_is_closed_with_1011_and_released_at_once(
    flaky: Any, officer_a: Any, session_key: Any, monkeypatch: Any, caplog: Any
) -> None:
    from apps.realtime import consumers

    def broken(**kwargs: Any) -> int:
        raise RuntimeError("the database is away")

    monkeypatch.setattr(consumers, "stream_position", broken)
    caplog.set_level(logging.DEBUG, logger="apps.realtime.consumers")
    consumers._crash_logged.clear()
    sockets = []
    for _ in range(3):
        ws = await _communicator(await session_key(officer_a))
        await ws.send_json_to({"type": "hello", "after": 0})
        assert await ws.receive_output(timeout=3) == {"type": "websocket.close", "code": 1011}
        sockets.append(ws)
    assert sweeper.live_count() == 0  # out of the sweeper
    (layer,) = {*FlakyLayer.instances}
    assert not any(layer.groups.values())  # out of every group
    tracebacks = [r for r in caplog.records if r.exc_info and r.name == "apps.realtime.consumers"]
    assert len(tracebacks) == 1  # one traceback per kind of failure per minute, not one per socket
    for ws in sockets:
        await ws.wait()


async def _communicator(key: str) -> Any:
    from .conftest import communicator

    ws = communicator(key)
    connected, _ = await ws.connect()
    assert connected
    return ws


async def _wait(predicate: Any, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())
