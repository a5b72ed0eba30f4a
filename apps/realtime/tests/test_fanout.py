from __future__ import annotations

from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer

from apps.realtime.fanout import group_send_many


async def _exchange(layer: Any) -> None:
    a = await layer.new_channel()
    b = await layer.new_channel()
    c = await layer.new_channel()
    await layer.group_add("user.1", a)
    await layer.group_add("user.2", b)
    await layer.group_add("user.2", c)  # a second socket of the same user
    await group_send_many(
        layer, [("user.1", {"type": "events.ready", "n": 1}), ("user.2", {"type": "events.ready", "n": 2})]
    )
    assert (await layer.receive(a))["n"] == 1
    assert (await layer.receive(b))["n"] == 2
    assert (await layer.receive(c))["n"] == 2
    await group_send_many(layer, [("user.nobody", {"type": "events.ready", "n": 3})])  # no member: no error


async def test_fanout_falls_back_to_group_send_on_other_layers() -> None:
    await _exchange(InMemoryChannelLayer())


@pytest.mark.redis
async def test_fanout_batches_on_redis_and_each_group_gets_its_own_message(settings: Any) -> None:
    """All three channels live in this process, so they share one Redis key: the batch must still
    deliver each group's own message to each of its channels."""
    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=[{"address": settings.REDIS_URL, "socket_timeout": None}], prefix="fanout-test")
    try:
        await _exchange(layer)
    finally:
        await layer.flush()
        await layer.close_pools()
