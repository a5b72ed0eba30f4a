"""The one way to emit an event: stored in the caller's transaction, rung after commit.

Each recipient has a stream with its own sequence (the client's cursor). Payloads are built per
recipient, so role filtering happens once, here, before anything is stored or sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.errors import Conflict

from . import layer as layer_health
from . import registry
from .fanout import group_send_many as group_send_many
from .models import Device, Event, EventStream, PushSubscription

log = logging.getLogger(__name__)

Payload = Mapping[str, Any]
RING_TIMEOUT_SECONDS = 5.0
PayloadFor = Callable[[User], Payload | None]


# Keys that only clinical content uses. A payload for an officer carrying one is a bug upstream:
# refused loudly (the transaction rolls back) rather than stored and sent. Defence in depth only;
# the payload functions of the emitting app are the real filter.
CLINICAL_KEYS = frozenset(
    {
        "narrative",
        "note",
        "note_text",
        "notes_clinical",
        "assessment",
        "plan",
        "soap",
        "dap",
        "birp",
        "cssrs",
        "risk_level",
        "safety_plan",
        "diagnosis",
        "medications",
        "substance_use",
        "part2",
    }
)


def _clinical_keys(payload: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(payload, Mapping):
        for key, value in payload.items():
            if str(key).lower() in CLINICAL_KEYS:
                found.add(str(key))
            found |= _clinical_keys(value)
    elif isinstance(payload, list | tuple):
        for item in payload:
            found |= _clinical_keys(item)
    return found


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def event_emit(*, type: str, recipients: Iterable[User | int], data: Payload | PayloadFor) -> list[Event]:
    """Store ``type`` for every recipient inside the current transaction; ring their sockets on commit.

    ``data`` is a payload, or a function of the recipient returning its payload (``None`` skips that
    recipient). Payloads carry ids, type, status and dispatch fields only: never clinical text.
    ``type`` is declared with its payload schema in the emitting app's ``events.py`` (registry.py);
    an undeclared type is refused when ``REALTIME_EVENTS_STRICT`` is on (DEBUG, tests).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("event_emit must run inside the transaction that makes the change")
    if settings.REALTIME_EVENTS_STRICT and registry.get(type) is None:
        raise registry.UnregisteredEvent(
            f"event type {type!r} is not registered: declare it in apps/<app>/events.py (apps.realtime.registry)"
        )
    ids = sorted({r if isinstance(r, int) else r.pk for r in recipients})
    if not ids:
        return []
    users = {u.pk: u for u in User.objects.filter(pk__in=ids).prefetch_related("groups")}
    payloads: dict[int, Payload] = {}
    for uid in ids:
        if uid not in users:
            continue
        payload = data(users[uid]) if callable(data) else data
        if payload is None:
            continue
        if users[uid].has_role(Role.OFFICER) and (leaked := _clinical_keys(payload)):
            raise ValueError(f"event {type!r} for officer {uid} carries clinical keys {sorted(leaked)}")
        registry.registry.emitted(type, payload)
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


_ring_loop: tuple[int, asyncio.AbstractEventLoop] | None = None
_ring_lock = threading.Lock()


def _ring_event_loop() -> asyncio.AbstractEventLoop:
    """A long-lived event loop thread for ringing from sync code (Celery, management commands).

    ``async_to_sync`` outside a server makes a new loop per call, and channels-redis keeps its
    connections per loop: every ring paid a new Redis connection (measured here: p50 10.6 ms, first
    call 450 ms). One loop per process keeps the pool warm. Re-created after a fork.
    """
    global _ring_loop
    with _ring_lock:
        if _ring_loop is None or _ring_loop[0] != os.getpid() or _ring_loop[1].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="realtime-ring", daemon=True).start()
            _ring_loop = (os.getpid(), loop)
        return _ring_loop[1]


def channel_send_groups(groups: list[str], message: dict[str, Any]) -> None:
    """Send ``message`` to each channel-layer group from sync code, on the process's ring loop (raises)."""
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group in groups:
            await layer.group_send(group, message)

    if isinstance(layer, InMemoryChannelLayer):
        async_to_sync(send_all)()  # its queues belong to the server's loop (embedded, tests)
    else:
        asyncio.run_coroutine_threadsafe(send_all(), _ring_event_loop()).result(timeout=RING_TIMEOUT_SECONDS)


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
        # One message per recipient's group, all in two Redis round trips (fanout.py).
        await group_send_many(layer, [(group, {"type": "events.ready", "frame": f}) for group, f in frames])

    try:
        if isinstance(layer, InMemoryChannelLayer):
            # Its queues belong to the server's loop: ring there (embedded default, tests).
            async_to_sync(send_all)()
        else:
            asyncio.run_coroutine_threadsafe(send_all(), _ring_event_loop()).result(timeout=RING_TIMEOUT_SECONDS)
    except Exception:
        # One warning per outage, not one per event (apps/realtime/layer.py).
        layer_health.send_failed(len(frames))
    else:
        layer_health.send_ok()


def events_after(*, user_id: int, after: int, limit: int) -> list[Event]:
    return list(Event.objects.filter(user_id=user_id, seq__gt=after).order_by("seq")[:limit])


def stream_position(*, user_id: int) -> int:
    return EventStream.objects.filter(user_id=user_id).values_list("last_seq", flat=True).first() or 0


def dispatcher_recipients() -> list[int]:
    """Who watches the dispatcher board: active users with the dispatcher or supervisor role."""
    return list(
        User.objects.filter(is_active=True, groups__name__in=[Role.DISPATCHER, Role.SUPERVISOR])
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


# --- devices ----------------------------------------------------------------------------------------


def device_register(*, user: User | int, device_id: uuid.UUID, user_agent: str = "", label: str = "") -> Device:
    """Register (or touch) ``device_id`` for ``user``.

    Raises Conflict if the id belongs to another user (a browser shared by two logins must keep one
    id per user) and NotFound-like Conflict if the device was revoked (lost phone).
    """
    user_id = user if isinstance(user, int) else user.pk
    now = timezone.now()
    device, created = Device.objects.get_or_create(
        id=device_id,
        defaults={"user_id": user_id, "user_agent": user_agent[:300], "label": label[:100], "last_seen_at": now},
    )
    if device.user_id != user_id:
        raise Conflict("This device id belongs to another user.", errors={"device": ["Use a new device id."]})
    if device.revoked_at is not None:
        raise Conflict("This device was revoked.", errors={"device": ["Revoked: sign in again."]}, current="revoked")
    if not created:
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now
    return device


def devices_revoke(*, user_id: int, device_id: uuid.UUID | None = None) -> tuple[list[uuid.UUID], int]:
    """A lost phone: revoke ``device_id`` of ``user_id`` (or all the user's devices) and delete their
    push subscriptions. A revoked device's hello is refused from now on. Call inside the revoking
    transaction (the caller audits it and closes the sockets after commit). Returns the ids revoked now
    and the number of push subscriptions deleted."""
    devices = Device.objects.select_for_update().filter(user_id=user_id, revoked_at__isnull=True)
    pushes = PushSubscription.objects.filter(user_id=user_id)
    if device_id is not None:
        devices = devices.filter(pk=device_id)
        pushes = pushes.filter(device_id=device_id)
    revoked = list(devices.values_list("pk", flat=True))
    Device.objects.filter(pk__in=revoked).update(revoked_at=timezone.now())
    deleted, _ = pushes.delete()
    return revoked, deleted


def device_owner(device_id: uuid.UUID) -> int | None:
    return Device.objects.filter(pk=device_id).values_list("user_id", flat=True).first()


# --- push subscriptions -----------------------------------------------------------------------------


@transaction.atomic
def push_subscription_save(
    *, user: User, device_id: uuid.UUID, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Subscribe ``device_id`` (registered on the way). The app re-registers on every start, so this
    is an upsert; an endpoint moving to another device or user follows the newest registration."""
    device = device_register(user=user, device_id=device_id, user_agent=user_agent)
    PushSubscription.objects.filter(endpoint=endpoint).exclude(device=device).delete()
    subscription, created = PushSubscription.objects.update_or_create(
        device=device, defaults={"user": user, "endpoint": endpoint, "p256dh": p256dh, "auth": auth}
    )
    return subscription, created


@transaction.atomic
def push_subscription_delete(*, user: User, device_id: uuid.UUID | None = None, endpoint: str | None = None) -> int:
    """Unsubscribe one of the user's own devices (idempotent: deleting nothing is fine)."""
    qs = PushSubscription.objects.filter(user=user)
    if device_id is not None:
        qs = qs.filter(device_id=device_id)
    if endpoint is not None:
        qs = qs.filter(endpoint=endpoint)
    deleted, _ = qs.delete()
    return deleted
