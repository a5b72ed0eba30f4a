"""Embedded default only: carry events written by other processes into this process's sockets.

The in-memory channel layer does not cross processes (PITFALLS.md), so an event the Celery worker
stores would reach a socket only at its next catch-up. This poller reads newly stored events from
the database and rings the local groups. It runs only with the in-memory layer (one web process);
with Redis every process rings through Redis instead.

It re-reads a short look-back window by time, not just ``id > last``: an id taken by a transaction
that commits late would otherwise be skipped. Consumers drop any frame at or below their cursor,
so ringing twice is harmless.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from django.conf import settings
from django.utils import timezone

from .models import Event
from .services import user_group

log = logging.getLogger(__name__)

LOOKBACK = dt.timedelta(seconds=5)
_task: asyncio.Task[None] | None = None


def ensure_running(layer: Any) -> None:
    global _task
    if not isinstance(layer, InMemoryChannelLayer):
        return
    # One poller per event loop (a test runner, or a server restarted in-process, makes new loops).
    if _task is not None and not _task.done() and _task.get_loop() is asyncio.get_running_loop():
        return
    _task = asyncio.ensure_future(_run(layer))


def _recent(since: dt.datetime, seen: set[int]) -> list[Event]:
    return [e for e in Event.objects.filter(created_at__gte=since).order_by("id")[:2000] if e.id not in seen]


async def _run(layer: InMemoryChannelLayer) -> None:
    seen: dict[int, dt.datetime] = {}
    # Start from now: sockets replay anything older from the log on hello.
    horizon = timezone.now()
    while True:
        try:
            await asyncio.sleep(settings.EVENTS_BRIDGE_POLL_SECONDS)
            now = timezone.now()
            recent = await database_sync_to_async(_recent)(max(horizon, now - LOOKBACK), set(seen))
            for event in recent:
                seen[event.id] = event.created_at
                await layer.group_send(user_group(event.user_id), {"type": "events.ready", "frame": event.as_frame()})
            cutoff = now - 2 * LOOKBACK
            for event_id in [i for i, t in seen.items() if t < cutoff]:
                del seen[event_id]
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event bridge poll failed; retrying")
            await asyncio.sleep(1)
