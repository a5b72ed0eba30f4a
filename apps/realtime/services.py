"""The one way to emit an event: stored in the caller's transaction, rung after commit.

Each recipient has a stream with its own sequence (the client's cursor). Payloads are built per
recipient, so role filtering happens once, here, before anything is stored or sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from apps.accounts.models import User

from .models import Event, EventStream

log = logging.getLogger(__name__)

Payload = Mapping[str, Any]
PayloadFor = Callable[[User], Payload | None]


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def event_emit(*, type: str, recipients: Iterable[User | int], data: Payload | PayloadFor) -> list[Event]:
    """Store ``type`` for every recipient inside the current transaction; ring their sockets on commit.

    ``data`` is a payload, or a function of the recipient returning its payload (``None`` skips that
    recipient). Payloads carry ids, type, status and dispatch fields only: never clinical text.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("event_emit must run inside the transaction that makes the change")
    ids = sorted({r if isinstance(r, int) else r.pk for r in recipients})
    if not ids:
        return []
    users = {u.pk: u for u in User.objects.filter(pk__in=ids).prefetch_related("groups")}
    payloads: dict[int, Payload] = {}
    for uid in ids:
        if uid not in users:
            continue
        payload = data(users[uid]) if callable(data) else data
        if payload is not None:
            payloads[uid] = payload
    if not payloads:
        return []

    EventStream.objects.bulk_create([EventStream(user_id=uid) for uid in payloads], ignore_conflicts=True)
    # Lock streams in user-id order: two transactions emitting to overlapping recipients cannot deadlock.
    streams = list(EventStream.objects.select_for_update().filter(user_id__in=payloads).order_by("user_id"))
    first = Event(user_id=0, seq=0, type=type)  # share one uid across recipients of the same event
    events = []
    for stream in streams:
        stream.last_seq += 1
        events.append(
            Event(
                uid=first.uid,
                user_id=stream.user_id,
                seq=stream.last_seq,
                type=type,
                data=dict(payloads[stream.user_id]),
            )
        )
    EventStream.objects.bulk_update(streams, ["last_seq"])
    created = Event.objects.bulk_create(events)
    transaction.on_commit(lambda: ring(created))
    return created


def ring(events: Iterable[Event]) -> None:
    """Tell the recipients' sockets that their stream moved. A hint only: never raise.

    The event is already committed; if the channel layer is down the client gets it by replay or by
    the socket's periodic catch-up (PITFALLS.md: a failed push after commit must not become a 500).
    """
    frames = [(user_group(e.user_id), e.as_frame()) for e in events]
    if not frames:
        return
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group, frame in frames:
            await layer.group_send(group, {"type": "events.ready", "frame": frame})

    try:
        async_to_sync(send_all)()
    except Exception:
        log.warning("channel layer unavailable; %d event(s) will be delivered by replay", len(frames), exc_info=True)


def events_after(*, user_id: int, after: int, limit: int) -> list[Event]:
    return list(Event.objects.filter(user_id=user_id, seq__gt=after).order_by("seq")[:limit])


def stream_position(*, user_id: int) -> int:
    return EventStream.objects.filter(user_id=user_id).values_list("last_seq", flat=True).first() or 0
