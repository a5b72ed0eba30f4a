"""One safety-net round per process instead of one per socket.

Every ``EVENTS_CATCHUP_SECONDS`` this process asks the database two questions for all of its live
sockets at once — how far has each user's stream moved, and which sessions are still valid — and
only then touches the sockets concerned: a socket behind its stream catches up (a dropped doorbell),
a socket whose session ended (signed out, revoked, 12-hour limit, revoked device) is closed with
4401, one whose session is locked (idle 30 min, or locked by the app) with 4423, and every socket
re-joins its groups (after a Redis restart without persistence the memberships are gone). The
revocation / lock messages close sockets at once; this round is the net when one is lost.

Per-socket rounds cost two queries per socket per round on the single database thread of
``database_sync_to_async``; at 1,000 sockets they queued behind each other and delayed live frames
by up to a second (bench/push_bench.py). Two queries per process per round do not.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from importlib import import_module
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from apps.security.sessions import State

from .fanout import group_add_many
from .models import EventStream

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


def _valid_sessions(pairs: list[tuple[str, int]]) -> set[str]:
    """Session keys that still exist, are unexpired and belong to the same user."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        store = import_module(settings.SESSION_ENGINE).SessionStore
        return {key for key, uid in pairs if str(store(key).load().get("_auth_user_id")) == str(uid)}
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    keys = [k for k, _ in pairs]
    rows = dict(
        Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now()).values_list(
            "session_key", "session_data"
        )
    )
    decoder = SessionStore()
    owner = dict(pairs)
    return {key for key, data in rows.items() if str(decoder.decode(data).get("_auth_user_id")) == str(owner[key])}


def _revoked(device_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    from .models import Device

    if not device_ids:
        return set()
    return set(Device.objects.filter(pk__in=device_ids, revoked_at__isnull=False).values_list("pk", flat=True))


def _session_states(session_ids: list[int]) -> dict[int, str]:
    """State of each security session record (apps.security.sessions); missing ids are absent."""
    from apps.security.models import UserSession
    from apps.security.sessions import state_of

    if not session_ids:
        return {}
    now = timezone.now()
    return {row.pk: state_of(row, now) for row in UserSession.objects.filter(pk__in=session_ids)}


def _round(
    users: list[int], sessions: list[tuple[str, int]], devices: list[uuid.UUID], session_ids: list[int]
) -> tuple[dict[int, int], set[str], set[uuid.UUID], dict[int, str]]:
    return _positions(users), _valid_sessions(sessions), _revoked(devices), _session_states(session_ids)


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
    sessions = [(c.session_key, c.user_id) for c in consumers if c.session_key]
    devices = [d for c in consumers if (d := getattr(c, "device_id", None)) is not None]
    session_ids = [s for c in consumers if (s := getattr(c, "security_session_id", None)) is not None]
    positions, valid, revoked, states = await database_sync_to_async(_round)(users, sessions, devices, session_ids)
    alive = []
    for consumer in consumers:
        gone = not consumer.session_key or consumer.session_key not in valid
        state = states.get(getattr(consumer, "security_session_id", None) or 0, State.ENDED)
        try:
            if gone or getattr(consumer, "device_id", None) in revoked or state in (State.ENDED, State.EXPIRED):
                await consumer.session_ended()
            elif state == State.LOCKED:
                await consumer.session_locked()
            else:
                alive.append(consumer)
        except Exception:
            # One broken socket must not cost the others their safety net this round.
            log.warning("closing socket of user %s failed; dropped", consumer.user_id, exc_info=True)
            unregister(consumer)
    if alive:
        try:
            # Re-join: after a Redis restart without persistence the memberships are gone.
            memberships = [(g, c.channel_name) for c in alive for g in [c.group, *getattr(c, "extra_groups", [])]]
            await group_add_many(alive[0].channel_layer, memberships)
        except Exception:
            log.info("re-joining groups failed (channel layer down?); next round retries", exc_info=True)
    for consumer in alive:
        cursor = consumer.cursor
        if cursor is not None and positions.get(consumer.user_id, 0) > cursor:
            task = asyncio.ensure_future(_catch_up(consumer))
            _pending.add(task)
            task.add_done_callback(_pending.discard)


async def _run() -> None:
    while True:
        await asyncio.sleep(settings.EVENTS_CATCHUP_SECONDS)
        if not _live:
            continue
        try:
            await sweep_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("socket sweep failed; retrying next round", exc_info=True)


def live_count() -> int:
    return len(_live)


__all__ = ["live_count", "register", "sweep_once", "unregister"]
