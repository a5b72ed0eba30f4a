"""Send one message to each of many groups in two Redis round trips instead of four per group.

``ring()`` sends a different frame to each recipient's group; with channels-redis every
``group_send`` costs four round trips and a Lua call (~0.7 ms of CPU here), so an offer to a team and
ten dispatchers spent ~8 ms ringing. This batches the same steps channels-redis takes (expire old
members, list members, expire old messages, capacity-checked ZADD in Lua) for all groups at once.

It uses channels-redis internals (pinned ``channels-redis>=4.3,<5``); for any other layer, several
Redis hosts (sharding), or an internal that moved, it falls back to plain ``group_send`` per group.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from channels_redis.core import RedisChannelLayer

log = logging.getLogger(__name__)

# Same script as channels_redis.core.RedisChannelLayer.group_send: ARGV = messages, capacities,
# time, expiry. A key may appear more than once (two recipients' sockets on one server process).
GROUP_SEND_LUA = """
local over_capacity = 0
local current_time = ARGV[#ARGV - 1]
local expiry = ARGV[#ARGV]
for i=1,#KEYS do
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
        redis.call('ZADD', KEYS[i], current_time, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


def _batchable(layer: Any) -> bool:
    return isinstance(layer, RedisChannelLayer) and layer.ring_size == 1


async def group_send_many(layer: Any, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
    if not messages:
        return
    if not _batchable(layer):
        for group, message in messages:
            await layer.group_send(group, message)
        return
    try:
        await _redis_group_send_many(layer, messages)
    except AttributeError:  # channels-redis internals changed: stay correct, just slower
        log.warning("batched group_send unavailable; falling back", exc_info=True)
        for group, message in messages:
            await layer.group_send(group, message)


async def _redis_group_send_many(layer: Any, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
    connection = layer.connection(0)
    pipe = connection.pipeline(transaction=False)
    for group, _message in messages:
        key = layer._group_key(group)
        pipe.zremrangebyscore(key, min=0, max=int(time.time()) - layer.group_expiry)
        pipe.zrange(key, 0, -1)
    results = await pipe.execute()
    keys: list[str] = []
    payloads: list[bytes] = []
    capacities: list[int] = []
    for (_group, message), members in zip(messages, results[1::2], strict=True):
        channel_names = [m.decode("utf8") for m in members]
        if not channel_names:
            continue
        _by_connection, key_to_message, key_to_capacity = layer._map_channel_keys_to_connection(channel_names, message)
        for key, payload in key_to_message.items():
            keys.append(key)
            payloads.append(payload)
            capacities.append(key_to_capacity[key])
    if not keys:
        return
    pipe = connection.pipeline(transaction=False)
    for key in dict.fromkeys(keys):
        pipe.zremrangebyscore(key, min=0, max=int(time.time()) - int(layer.expiry))
    pipe.eval(GROUP_SEND_LUA, len(keys), *keys, *payloads, *capacities, time.time(), layer.expiry)
    over_capacity = (await pipe.execute())[-1]
    if over_capacity:
        # The doorbell is a hint: the sweep's catch-up delivers what a full channel dropped.
        log.info("%s of %s channel messages over capacity", over_capacity, len(keys))


async def group_add_many(layer: Any, memberships: Sequence[tuple[str, str]]) -> None:
    """(Re-)join many (group, channel) pairs: one pipeline on Redis instead of two round trips each.

    The sweep re-joins every live socket every round (a Redis restart forgets groups); at thousands
    of sockets per process that was thousands of round trips at once.
    """
    if not memberships:
        return
    if not _batchable(layer):
        for group, channel in memberships:
            await layer.group_add(group, channel)
        return
    try:
        connection = layer.connection(0)
        pipe = connection.pipeline(transaction=False)
        now = time.time()
        for group, channel in memberships:
            key = layer._group_key(group)
            pipe.zadd(key, {channel: now})
            pipe.expire(key, layer.group_expiry)
        await pipe.execute()
    except AttributeError:
        log.warning("batched group_add unavailable; falling back", exc_info=True)
        for group, channel in memberships:
            await layer.group_add(group, channel)


async def drop_idle_connections(layer: Any) -> None:
    """Close the channel layer's idle Redis connections (they reconnect on their next use).

    After a Redis restart every pooled connection is dead, and each fails once on its next command
    ("Connection closed by server"): a burst of group_adds after the restart would meet one dead
    connection after another. Dropping the idle ones when a failure is seen leaves only fresh ones.
    """
    if not isinstance(layer, RedisChannelLayer):
        return
    for index in range(layer.ring_size):
        try:
            await layer.connection(index).connection_pool.disconnect(inuse_connections=False)
        except AttributeError:  # channels-redis internals changed: the retries still get there
            log.info("could not drop idle channel-layer connections", exc_info=True)
            return
