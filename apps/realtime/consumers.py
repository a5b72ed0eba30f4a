"""``/ws/events/``: replay from the client's cursor, then live, with no gap and no duplicate.

The socket sends only what it reads from the database event log, in sequence order, under one lock.
A channel-layer doorbell carries the next frame as a shortcut: it is sent directly only when it is
exactly ``cursor + 1``; anything else triggers a read of the log. A lost doorbell is healed by the
periodic catch-up. Close codes are documented in docs/realtime.md.

The channel layer is optional for a socket's life (issue 18): when Redis fails, the receive loop and
``group_add`` do not end the consumer. The failure marks the layer down for the process (layer.py,
one warning), the socket stays open and is served from the database by the sweeper's short poll, and
its groups are re-joined when the layer is back. Whatever ends a consumer (a close, a client gone, a
bug) releases it at once: out of the sweeper, heartbeat stopped, groups left (``__call__``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.db import connection

from apps.core.errors import ApplicationError

from . import bridge, sweeper
from . import layer as layer_health
from .fanout import drop_idle_connections
from .guard import Access, Admission, guard
from .receipts import Stage, receipt_event_types, receipt_record
from .services import device_register, events_after, stream_position, user_group

log = logging.getLogger(__name__)


# The consumers' queries run on two small thread pools instead of the one shared "sync thread", each
# call with its own pooled connection, so the queries of many sockets connecting at once (a server
# restart) overlap instead of queueing on one thread. Receipts get a pool of their own: they take the
# dispatchers' stream locks (delivery.updated) and may wait on them, and must never hold up another
# socket's connect, hello or catch-up. Measured with 200 sockets connecting at once to one server on
# this shared machine (load ~11): all welcomed after 11-14 s on the sync thread, 4.5-6 s on a pool.
_SOCKET_DB = ThreadPoolExecutor(max_workers=8, thread_name_prefix="events-db")
_RECEIPT_DB = ThreadPoolExecutor(max_workers=2, thread_name_prefix="events-receipts")


def _db(fn: Any, executor: ThreadPoolExecutor = _SOCKET_DB) -> Any:
    """``database_sync_to_async`` on ``executor``; the connection goes back to the pool after the call
    (an idle pool thread must not hold one)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    return database_sync_to_async(run, thread_sensitive=False, executor=executor)


CLOSE_UNAUTHENTICATED = 4401  # no session, or the session expired / was revoked: sign in again
CLOSE_BAD_MESSAGE = 4400  # the client broke the protocol
CLOSE_HEARTBEAT_TIMEOUT = 4408  # nothing heard from the client for 3 heartbeats
CLOSE_LOCKED = 4423  # the session is locked (idle / locked by the app): unlock, then reconnect
CLOSE_SERVER_ERROR = 1011  # this socket failed on the server (a bug, the database away): reconnect with backoff

# A channel-layer call that hangs (Redis unreachable, not refused: socket_timeout is None) must not
# hold a connect or a release forever.
LAYER_CALL_TIMEOUT_SECONDS = 3.0

# One traceback per kind of failure per minute, not one per socket (issue 18).
_crash_logged: dict[str, float] = {}


def _log_crash(user_id: int | None, exc: BaseException) -> None:
    kind = type(exc).__name__
    now = time.monotonic()
    if now - _crash_logged.get(kind, -1e9) >= 60:
        _crash_logged[kind] = now
        log.warning("event socket of user %s failed; closed with %s", user_id, CLOSE_SERVER_ERROR, exc_info=exc)
    else:
        log.debug("event socket of user %s failed (%s: %s)", user_id, kind, exc)


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

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """channels' ``AsyncConsumer.__call__`` with two changes. The channel layer's receive never
        ends the socket (``_layer_receive``). And whatever ends the consumer — a close, a client gone,
        an exception in a handler — releases it at once (``_release``); an exception closes the
        socket with 1011 and is logged once per kind per minute, not once per socket."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = self._layer_receive
            sources.append(self._layer_receive)
        try:
            await await_many_dispatch(sources, self.dispatch)
        except StopConsumer:
            pass
        except Exception as exc:
            _log_crash(getattr(self, "user_id", None), exc)
            await self._release()  # before the close: the client may reconnect at once
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": CLOSE_SERVER_ERROR})
        finally:
            await self._release()

    async def _layer_receive(self) -> dict[str, Any]:
        """The next channel-layer message for this socket. A failure marks the layer down (layer.py:
        one warning for the whole process) and waits until the sweeper's probe finds it back, then
        receives again; it never raises into the receive loop, which would end the socket."""
        poll = settings.EVENTS_DEGRADED_POLL_SECONDS
        while True:
            if layer_health.is_down():
                # The sweeper probes every `poll` s; retry on our own after a few probes anyway.
                await layer_health.wait_until_back(timeout=5 * poll)
            # A pooled connection from before a Redis restart fails once ("Connection closed by
            # server") and is dropped: while the layer is up, one failure is retried at once.
            for attempt in (1, 2):
                try:
                    message: dict[str, Any] = await self.channel_layer.receive(self.channel_name)
                    return message
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if attempt == 2 or layer_health.is_down():
                        layer_health.failed(exc, "receive")
                        break
                    await drop_idle_connections(self.channel_layer)
            await asyncio.sleep(poll * random.uniform(0.5, 1.5))  # noqa: S311 - jitter

    async def _join(self, group: str) -> None:
        """``group_add`` that survives the layer: when it fails the sweeper re-joins once it is back."""
        if layer_health.is_down():
            return  # the sweeper re-joins every live socket's groups when the layer is back
        for attempt in (1, 2):  # a stale pooled connection (Redis restarted) fails once: try again
            try:
                await asyncio.wait_for(
                    self.channel_layer.group_add(group, self.channel_name), LAYER_CALL_TIMEOUT_SECONDS
                )
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if attempt == 2:
                    layer_health.failed(exc, "group_add")
                else:
                    await drop_idle_connections(self.channel_layer)

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # The socket guard (registered by the app that owns sign-ins): closed → 4401, locked → 4423.
        admission = await _db(_admit)(user.pk, self.scope.get("session"))
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
        self.extra_groups = list(admission.groups)
        # In the sweeper first: if the layer is down, it serves this socket and re-joins its groups.
        sweeper.register(self)
        await self._join(self.group)
        # Revocation and lock close the socket at once through these groups (the sweeper is the net).
        for group in self.extra_groups:
            await self._join(group)
        bridge.ensure_running(self.channel_layer)
        self.ticker = asyncio.ensure_future(self._tick())

    async def disconnect(self, code: int) -> None:
        await self._release()

    async def _release(self) -> None:
        """Leave the sweeper, stop the heartbeat, leave the groups. Safe to run twice."""
        if getattr(self, "_released", False):
            return
        self._released = True
        sweeper.unregister(self)
        ticker = getattr(self, "ticker", None)
        if ticker is not None and ticker is not asyncio.current_task():
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await ticker
        if layer_health.is_down():
            return  # nothing to leave: a restarted Redis forgot the groups, a back one expires them
        for group in [getattr(self, "group", None), *getattr(self, "extra_groups", [])]:
            if group is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        self.channel_layer.group_discard(group, self.channel_name), LAYER_CALL_TIMEOUT_SECONDS
                    )

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
                await _db(device_register)(user=self.user_id, device_id=device_id, user_agent=agent)
            except ApplicationError as exc:
                # Revoked (lost phone) → sign in again; someone else's id → a protocol error.
                await self.send_json({"type": "error", "message": exc.message})
                revoked = exc.extra.get("current") == "revoked"
                await self.close(code=CLOSE_UNAUTHENTICATED if revoked else CLOSE_BAD_MESSAGE)
                return
            self.device_id = device_id
            for group in await _db(_device_groups)(self.guard_ref, device_id):
                if group not in self.extra_groups:
                    self.extra_groups.append(group)
                    await self._join(group)
        position = await _db(stream_position)(user_id=self.user_id)
        # A cursor beyond the stream (a reset database, another server) would hide new events: the
        # stream restarts from 0 and the welcome says so explicitly. The client never infers a reset
        # from a lower number (its REST resync may have moved it past `after` meanwhile).
        reset = after > position
        self.cursor = 0 if reset else after
        await self.send_json({"type": "welcome", "cursor": self.cursor, "latest": position, "reset": reset})
        await self.catch_up()

    async def on_receipt(self, content: dict[str, Any], stage: str) -> None:
        """``ack`` (delivered) and ``seen`` of a frame; recorded per device for receipt event types.

        Acks of other events cost nothing (no query): the socket remembers which frames it sent that
        take none; an ack for a cursor it did not send (REST resync) is looked up. An ack or seen that
        names the event's ``id`` asks for a confirmation: the server answers ``receipt`` once the
        receipt is stored (or refused for good), so the client can forget it (docs/realtime.md).
        """
        kind = content.get("type")
        cursor = content.get("cursor")
        raw_id = content.get("id")
        if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 1:
            await self.protocol_error(f"{kind}.cursor must be a positive integer")
            return
        event_uid: uuid.UUID | None = None
        if raw_id is not None:
            try:
                event_uid = uuid.UUID(str(raw_id))
            except ValueError:
                await self.protocol_error(f"{kind}.id must be a UUID")
                return
        if self.device_id is None:
            if event_uid is not None:  # nothing to record it against: tell the client to stop asking
                await self._confirm(event_uid, cursor, stage, recorded=False, message="Say hello with a device first.")
            return  # a client without a device id gets its events; no per-device receipt
        if event_uid is None and cursor in self.sent_untracked:
            return  # this socket sent it and its type takes no receipt: no query
        try:
            receipt = await _db(receipt_record, _RECEIPT_DB)(
                user=self.user_id, device_id=self.device_id, stage=stage, cursor=cursor, event_uid=event_uid
            )
        except ApplicationError as exc:
            if event_uid is not None:
                await self._confirm(event_uid, cursor, stage, recorded=False, message=exc.message)
            else:
                await self.send_json({"type": "error", "message": exc.message})
            return
        except Exception:
            # The database is away: no confirmation, so the client keeps the receipt and sends it again.
            log.info("receipt of user %s not stored; the client will send it again", self.user_id, exc_info=True)
            return
        if event_uid is not None:
            await self._confirm(event_uid, cursor, stage, recorded=receipt is not None)

    async def _confirm(
        self, event_uid: uuid.UUID, cursor: int, stage: str, *, recorded: bool, message: str | None = None
    ) -> None:
        frame: dict[str, Any] = {
            "type": "receipt",
            "id": str(event_uid),
            "cursor": cursor,
            "stage": stage,
            "recorded": recorded,
        }
        if message:
            frame["message"] = message
        await self.send_json(frame)

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
                events = await _db(events_after)(user_id=self.user_id, after=self.cursor, limit=page)
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
