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
import time
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from . import bridge
from .services import events_after, stream_position, user_group

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401  # no session, or the session expired / was revoked: sign in again
CLOSE_BAD_MESSAGE = 4400  # the client broke the protocol
CLOSE_HEARTBEAT_TIMEOUT = 4408  # nothing heard from the client for 3 heartbeats


class EventsConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    user_id: int
    cursor: int | None

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.cursor = None  # set by the client's hello
        self.lock = asyncio.Lock()
        self.last_heard = time.monotonic()
        self.group = user_group(self.user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        bridge.ensure_running(self.channel_layer)
        self.ticker = asyncio.ensure_future(self._tick())

    async def disconnect(self, code: int) -> None:
        ticker = getattr(self, "ticker", None)
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await ticker
        if hasattr(self, "group"):
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(self.group, self.channel_name)

    # --- client → server ----------------------------------------------------------------------------
    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        self.last_heard = time.monotonic()
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "hello":
            after = content.get("after", 0)
            if not isinstance(after, int) or isinstance(after, bool) or after < 0:
                await self.send_json({"type": "error", "message": "hello.after must be a non-negative integer"})
                await self.close(code=CLOSE_BAD_MESSAGE)
                return
            position = await database_sync_to_async(stream_position)(user_id=self.user_id)
            # A cursor beyond the stream (a reset database, another server) would hide new events.
            self.cursor = after if after <= position else 0
            await self.send_json({"type": "welcome", "cursor": self.cursor, "latest": position})
            await self.catch_up()
        elif kind == "ack":
            await self.on_ack(content)
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "pong":
            pass
        else:
            await self.send_json({"type": "error", "message": f"unknown message type {kind!r}"})

    async def on_ack(self, content: dict[str, Any]) -> None:
        """Acknowledgement of a frame; recording delivery per device belongs to the assignment flow."""

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
                    await self.send_json(frame)
                    self.cursor = frame["cursor"]
                    return
        await self.catch_up()

    async def catch_up(self) -> None:
        async with self.lock:
            if self.cursor is None:
                return
            page = settings.EVENTS_PAGE_SIZE
            while True:
                events = await database_sync_to_async(events_after)(user_id=self.user_id, after=self.cursor, limit=page)
                for event in events:
                    await self.send_json(event.as_frame())
                    self.cursor = event.seq
                if len(events) < page:
                    return

    async def _tick(self) -> None:
        heartbeat = settings.EVENTS_HEARTBEAT_SECONDS
        catchup = settings.EVENTS_CATCHUP_SECONDS
        next_catchup = time.monotonic() + catchup
        try:
            while True:
                await asyncio.sleep(min(heartbeat, catchup))
                now = time.monotonic()
                if now - self.last_heard > 3 * heartbeat:
                    await self.close(code=CLOSE_HEARTBEAT_TIMEOUT)
                    return
                await self.send_json({"type": "ping"})
                if now >= next_catchup:
                    next_catchup = now + catchup
                    if not await self._session_valid():
                        await self.close(code=CLOSE_UNAUTHENTICATED)
                        return
                    # Re-join: after a Redis restart without persistence the membership is gone.
                    await self.channel_layer.group_add(self.group, self.channel_name)
                    await self.catch_up()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event socket ticker failed for user %s", self.user_id)

    async def _session_valid(self) -> bool:
        return bool(await database_sync_to_async(self._session_valid_sync)())

    def _session_valid_sync(self) -> bool:
        """Re-read the session from its store: signed out, expired or revoked elsewhere → False."""
        session: SessionBase | None = self.scope.get("session")
        key = session.session_key if session is not None else None
        if not key:
            return False
        fresh: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(key)
        return str(fresh.load().get("_auth_user_id")) == str(self.user_id)
