"""One safety-net round per process instead of one per socket.

Every ``EVENTS_CATCHUP_SECONDS`` this process asks the database two questions for all of its live
sockets at once — how far has each user's stream moved, and which sign-ins are still valid (the socket
guard's ``recheck``, apps.realtime.guard) — and
only then touches the sockets concerned: a socket behind its stream catches up (a dropped doorbell),
a socket whose session ended (signed out, revoked, 12-hour limit, revoked device) is closed with
4401, one whose session is locked (idle 30 min, or locked by the app) with 4423, and every socket
re-joins its groups (after a Redis restart without persistence the memberships are gone). The
revocation / lock messages close sockets at once; this round is the net when one is lost.

Per-socket rounds cost two queries per socket per round on the single database thread of
``database_sync_to_async``; at 1,000 sockets they queued behind each other and delayed live frames
by up to a second (bench/push_bench.py). Two queries per process per round do not.

While the channel layer is down (layer.py) there are no doorbells, so the sweeper switches to a short
**degraded round** every ``EVENTS_DEGRADED_POLL_SECONDS``: it probes the layer by re-joining every
live socket's groups (one pipeline), then reads the stream positions of all live sockets (one query)
and catches up the sockets behind. The first probe that succeeds marks the layer up again (one
warning), and with the groups re-joined before the positions are read, no event falls between the
poll and the first doorbell. Sessions are still re-checked only every ``EVENTS_CATCHUP_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from collections.abc import Hashable
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async
from django.conf import settings

from . import layer as layer_health
from .fanout import drop_idle_connections, group_add_many
from .guard import Access, guard
from .models import Device, EventStream

if TYPE_CHECKING:
    from .consumers import EventsConsumer

log = logging.getLogger(__name__)

_live: weakref.WeakSet[EventsConsumer] = weakref.WeakSet()
_task: asyncio.Task[None] | None = None
_pending: set[asyncio.Future[None]] = set()


def register(consumer: EventsConsumer) -> None:
    global _task
    _live.add(consumer)
    if _task is None or _task.done() or _task.get_loop() is not asyncio.get_running_loop():
        _task = asyncio.ensure_future(_run())


def unregister(consumer: EventsConsumer) -> None:
    _live.discard(consumer)


def _positions(user_ids: list[int]) -> dict[int, int]:
    return dict(EventStream.objects.filter(user_id__in=user_ids).values_list("user_id", "last_seq"))


def _revoked(device_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not device_ids:
        return set()
    return set(Device.objects.filter(pk__in=device_ids, revoked_at__isnull=False).values_list("pk", flat=True))


def _access(refs: list[Hashable]) -> dict[Hashable, Access]:
    """The socket guard's answer for every live socket (apps.realtime.guard); none → all closed."""
    registered = guard()
    return registered.recheck(refs) if registered is not None and refs else {}


def _round(
    users: list[int], devices: list[uuid.UUID], refs: list[Hashable]
) -> tuple[dict[int, int], set[uuid.UUID], dict[Hashable, Access]]:
    return _positions(users), _revoked(devices), _access(refs)


async def _catch_up(consumer: EventsConsumer) -> None:
    try:
        await consumer.catch_up()
    except Exception:
        log.info("catch-up of a closing socket failed", exc_info=True)


async def sweep_once() -> None:
    consumers = list(_live)
    if not consumers:
        return
    users = sorted({c.user_id for c in consumers})
    devices = [d for c in consumers if (d := getattr(c, "device_id", None)) is not None]
    refs = [r for c in consumers if (r := getattr(c, "guard_ref", None)) is not None]
    # Re-join first: after a Redis restart without persistence the memberships are gone, and an event
    # committed after this point rings its socket; one committed before is in the positions below.
    await _rejoin(consumers)
    positions, revoked, access = await database_sync_to_async(_round)(users, devices, refs)
    alive = []
    for consumer in consumers:
        ref = getattr(consumer, "guard_ref", None)
        state = access.get(ref, Access.CLOSED) if ref is not None else Access.CLOSED
        try:
            if getattr(consumer, "device_id", None) in revoked or state == Access.CLOSED:
                await consumer.session_ended()
            elif state == Access.LOCKED:
                await consumer.session_locked()
            else:
                alive.append(consumer)
        except Exception:
            # One broken socket must not cost the others their safety net this round.
            log.warning("closing socket of user %s failed; dropped", consumer.user_id, exc_info=True)
            unregister(consumer)
    _catch_up_behind(alive, positions)


async def _rejoin(consumers: list[EventsConsumer]) -> bool:
    """Re-join every socket's groups (one pipeline): the layer's probe. Marks the layer up or down."""
    consumers = [c for c in consumers if getattr(c, "channel_layer", None) is not None]
    if not consumers:
        return not layer_health.is_down()
    memberships = [(g, c.channel_name) for c in consumers for g in [c.group, *getattr(c, "extra_groups", [])]]
    for attempt in (1, 2):  # a stale pooled connection (Redis restarted) fails once: try again
        try:
            await asyncio.wait_for(group_add_many(consumers[0].channel_layer, memberships), timeout=_PROBE_TIMEOUT)
            break
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if attempt == 2:
                layer_health.failed(exc, "re-join")  # logs once per outage
                return False
            await drop_idle_connections(consumers[0].channel_layer)
    if layer_health.is_down():
        # Back: the connections pooled before the outage are dead; drop them before anyone uses them.
        await drop_idle_connections(consumers[0].channel_layer)
    layer_health.recovered()  # logs once, if it was down
    return True


def _catch_up_behind(consumers: list[EventsConsumer], positions: dict[int, int]) -> None:
    for consumer in consumers:
        cursor = consumer.cursor
        if cursor is not None and positions.get(consumer.user_id, 0) > cursor:
            task = asyncio.ensure_future(_catch_up(consumer))
            _pending.add(task)
            task.add_done_callback(_pending.discard)


async def degraded_once() -> None:
    """The channel layer is down: probe it (re-join groups), then serve every socket behind from the
    database. Two round trips per process, whatever the number of sockets."""
    consumers = list(_live)
    if not consumers:
        return
    await _rejoin(consumers)
    users = sorted({c.user_id for c in consumers})
    positions = await database_sync_to_async(_positions)(users)
    _catch_up_behind(consumers, positions)


_PROBE_TIMEOUT = 3.0


async def _run() -> None:
    last_full = time.monotonic()
    while True:
        if layer_health.is_down():
            await asyncio.sleep(settings.EVENTS_DEGRADED_POLL_SECONDS)
        else:
            # Woken at once when a consumer finds the layer down: the degraded rounds start now.
            await layer_health.wait_until_down(max(0.0, last_full + settings.EVENTS_CATCHUP_SECONDS - time.monotonic()))
        if not _live:
            last_full = time.monotonic()
            continue
        try:
            if time.monotonic() - last_full >= settings.EVENTS_CATCHUP_SECONDS:
                last_full = time.monotonic()
                await sweep_once()
            elif layer_health.is_down():
                await degraded_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("socket sweep failed; retrying next round", exc_info=True)


def live_count() -> int:
    return len(_live)


__all__ = ["degraded_once", "live_count", "register", "sweep_once", "unregister"]
