"""``/ws/events/``: replay from the client's cursor, then live, with no gap and no duplicate.

The socket sends only what it reads from the database event log, in sequence order, under one lock.
A channel-layer doorbell carries the next frame as a shortcut: it is sent directly only when it is
exactly ``cursor + 1``; anything else triggers a read of the log. A lost doorbell is healed by the
periodic catch-up. Close codes are documented in docs/realtime.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from apps.core.errors import ApplicationError

from . import bridge, sweeper
from .guard import Access, Admission, guard
from .receipts import Stage, receipt_event_types, receipt_record
from .services import device_register, events_after, stream_position, user_group

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401  # no session, or the session expired / was revoked: sign in again
CLOSE_BAD_MESSAGE = 4400  # the client broke the protocol
CLOSE_HEARTBEAT_TIMEOUT = 4408  # nothing heard from the client for 3 heartbeats
CLOSE_LOCKED = 4423  # the session is locked (idle / locked by the app): unlock, then reconnect


def _admit(user_id: int, session: Any) -> Admission:
    registered = guard()
    if registered is None:
        log.error("no socket guard registered (apps.realtime.guard): socket refused")
        return Admission(Access.CLOSED)
    return registered.admit(user_id=user_id, session=session)


def _device_groups(ref: Any, device_id: uuid.UUID) -> tuple[str, ...]:
    registered = guard()
    return registered.device_seen(ref=ref, device_id=device_id) if registered is not None else ()


class EventsConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    user_id: int
    cursor: int | None
    device_id: uuid.UUID | None
    guard_ref: Any  # the socket guard's handle for this sign-in (apps.realtime.guard)
    group: str
    extra_groups: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # The socket guard (registered by the app that owns sign-ins): closed → 4401, locked → 4423.
        admission = await database_sync_to_async(_admit)(user.pk, self.scope.get("session"))
        if admission.access != Access.OPEN:
            await self.close(code=CLOSE_LOCKED if admission.access == Access.LOCKED else CLOSE_UNAUTHENTICATED)
            return
        self.guard_ref = admission.ref
        self.user_id = user.pk
        self.cursor = None  # set by the client's hello
        self.device_id = None
        # Cursors of frames sent on this socket whose type takes no receipt (their acks need no query).
        self.sent_untracked: set[int] = set()
        self.receipt_types = receipt_event_types()
        self.lock = asyncio.Lock()
        self.last_heard = time.monotonic()
        self.group = user_group(self.user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Revocation and lock close the socket at once through these groups (the sweeper is the net).
        self.extra_groups = list(admission.groups)
        for group in self.extra_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        bridge.ensure_running(self.channel_layer)
        sweeper.register(self)
        self.ticker = asyncio.ensure_future(self._tick())

    async def disconnect(self, code: int) -> None:
        await self._release()

    async def _release(self) -> None:
        """Leave the sweeper, stop the heartbeat, leave the groups. Safe to run twice."""
        sweeper.unregister(self)
        ticker = getattr(self, "ticker", None)
        if ticker is not None and ticker is not asyncio.current_task():
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await ticker
        for group in [getattr(self, "group", None), *getattr(self, "extra_groups", [])]:
            if group is not None:
                with contextlib.suppress(Exception):
                    await self.channel_layer.group_discard(group, self.channel_name)

    async def dispatch(self, message: Any) -> None:
        """A send to a client that has just gone (uvicorn raises ``ClientDisconnected``, an OSError)
        would end this consumer without ``disconnect()``: it would stay in the sweeper and keep its
        heartbeat running forever. Release everything and stop cleanly instead."""
        try:
            await super().dispatch(message)
        except OSError:
            log.info("event socket of user %s: client gone while sending", getattr(self, "user_id", None))
            await self._release()
            raise StopConsumer() from None

    async def close_quietly(self, code: int) -> None:
        """Close from outside a message handler (sweeper, heartbeat); a client already gone is released."""
        try:
            await self.close(code=code)
        except OSError:
            await self._release()

    # --- client → server ----------------------------------------------------------------------------
    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        self.last_heard = time.monotonic()
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "hello":
            await self.on_hello(content)
        elif kind == "ack":
            await self.on_receipt(content, Stage.DELIVERED)
        elif kind == "seen":
            await self.on_receipt(content, Stage.SEEN)
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "pong":
            pass
        else:
            await self.send_json({"type": "error", "message": f"unknown message type {kind!r}"})

    async def protocol_error(self, message: str) -> None:
        await self.send_json({"type": "error", "message": message})
        await self.close(code=CLOSE_BAD_MESSAGE)

    async def on_hello(self, content: dict[str, Any]) -> None:
        after = content.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            await self.protocol_error("hello.after must be a non-negative integer")
            return
        device = content.get("device")
        if device is not None:
            try:
                device_id = uuid.UUID(str(device))
            except ValueError:
                await self.protocol_error("hello.device must be a UUID")
                return
            agent = dict(self.scope.get("headers") or []).get(b"user-agent", b"").decode("latin-1")
            try:
                await database_sync_to_async(device_register)(user=self.user_id, device_id=device_id, user_agent=agent)
            except ApplicationError as exc:
                # Revoked (lost phone) → sign in again; someone else's id → a protocol error.
                await self.send_json({"type": "error", "message": exc.message})
                revoked = exc.extra.get("current") == "revoked"
                await self.close(code=CLOSE_UNAUTHENTICATED if revoked else CLOSE_BAD_MESSAGE)
                return
            self.device_id = device_id
            for group in await database_sync_to_async(_device_groups)(self.guard_ref, device_id):
                if group not in self.extra_groups:
                    self.extra_groups.append(group)
                    await self.channel_layer.group_add(group, self.channel_name)
        position = await database_sync_to_async(stream_position)(user_id=self.user_id)
        # A cursor beyond the stream (a reset database, another server) would hide new events.
        self.cursor = after if after <= position else 0
        await self.send_json({"type": "welcome", "cursor": self.cursor, "latest": position})
        await self.catch_up()

    async def on_receipt(self, content: dict[str, Any], stage: str) -> None:
        """``ack`` (delivered) and ``seen`` of a frame; recorded per device for receipt event types.

        Acks of other events cost nothing (no query): the socket remembers which frames it sent that
        take none; an ack for a cursor it did not send (REST resync) is looked up.
        """
        cursor = content.get("cursor")
        if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 1:
            await self.protocol_error(f"{content.get('type')}.cursor must be a positive integer")
            return
        if self.device_id is None:
            return  # a client without a device id gets its events; no per-device receipt
        if cursor in self.sent_untracked:
            return  # this socket sent it and its type takes no receipt: no query
        try:
            await database_sync_to_async(receipt_record)(
                user=self.user_id, device_id=self.device_id, stage=stage, cursor=cursor
            )
        except ApplicationError as exc:
            await self.send_json({"type": "error", "message": exc.message})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:  # not JSON
            await self.send_json({"type": "error", "message": "frames must be JSON"})
            await self.close(code=CLOSE_BAD_MESSAGE)

    # --- server → client ----------------------------------------------------------------------------
    async def events_ready(self, message: dict[str, Any]) -> None:
        if self.cursor is None:
            return  # before hello: the hello's replay reads the log, which already holds this event
        frame = message.get("frame")
        if isinstance(frame, dict):
            async with self.lock:
                if frame["cursor"] <= self.cursor:
                    return  # already sent (replay, or a second doorbell for the same event)
                if frame["cursor"] == self.cursor + 1:
                    await self.send_frame(frame)
                    return
        await self.catch_up()

    async def send_frame(self, frame: dict[str, Any]) -> None:
        """Send one event frame (caller holds the lock) and advance the cursor."""
        await self.send_json(frame)
        self.cursor = int(frame["cursor"])
        if frame["event_type"] not in self.receipt_types:
            self.sent_untracked.add(self.cursor)
            if len(self.sent_untracked) > 2000:
                self.sent_untracked.discard(min(self.sent_untracked))

    async def catch_up(self) -> None:
        async with self.lock:
            if self.cursor is None:
                return
            page = settings.EVENTS_PAGE_SIZE
            while True:
                events = await database_sync_to_async(events_after)(user_id=self.user_id, after=self.cursor, limit=page)
                for event in events:
                    await self.send_frame(event.as_frame())
                if len(events) < page:
                    return

    async def _tick(self) -> None:
        """Heartbeat both ways: ping the client; close a client silent for 3 heartbeats (4408).

        The database safety net (catch-up, session re-check, group re-join) runs once per process
        for all sockets: sweeper.py. One failed round must not end the loop.
        """
        heartbeat = settings.EVENTS_HEARTBEAT_SECONDS
        # Spread the pings of sockets that connected together (a server restart, a shift change).
        await asyncio.sleep(random.uniform(0, heartbeat))  # noqa: S311 - jitter, not security
        while True:
            try:
                if time.monotonic() - self.last_heard > 3 * heartbeat:
                    await self.close_quietly(CLOSE_HEARTBEAT_TIMEOUT)
                    return
                await self.send_json({"type": "ping"})
            except asyncio.CancelledError:
                raise
            except OSError:
                await self._release()  # the client is gone and nobody will call disconnect()
                return
            except Exception:
                log.warning("event socket heartbeat failed for user %s", self.user_id, exc_info=True)
            await asyncio.sleep(heartbeat)

    async def session_ended(self) -> None:
        """Called by the sweeper: signed out, expired or revoked elsewhere."""
        await self.close_quietly(CLOSE_UNAUTHENTICATED)

    async def session_locked(self) -> None:
        """Called by the sweeper: the session is locked (idle, or by the app)."""
        await self.close_quietly(CLOSE_LOCKED)

    # Channel-layer message from guard.sockets_close (a sign-in revoked, ended or locked elsewhere).
    async def sockets_close(self, message: dict[str, Any]) -> None:
        if message.get("access") == Access.LOCKED:
            await self.session_locked()
        else:
            await self.session_ended()
