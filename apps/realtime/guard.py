"""Who may keep an event socket open: a hook, filled by the app that owns sign-ins.

realtime knows nothing of sessions. The app that does (apps.security) registers a :class:`SocketGuard`
in its ``AppConfig.ready()``; the consumer asks it on connect and when a device says hello, and the
sweeper asks it, for all sockets of the process at once, every ``EVENTS_CATCHUP_SECONDS``. Without a
guard no socket is admitted (fail closed).

To close sockets at once (a revoked or locked sign-in), the guard's owner calls
:func:`sockets_close` with the groups it named in the admission.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from .services import channel_send_groups

log = logging.getLogger(__name__)

# Channel-layer message that closes the sockets of a group (handled by EventsConsumer.sockets_close).
CLOSE_MESSAGE = "sockets.close"


class Access(enum.StrEnum):
    OPEN = "open"
    LOCKED = "locked"  # closed with 4423: unlock, then reconnect
    CLOSED = "closed"  # closed with 4401: sign in again


@dataclass(frozen=True)
class Admission:
    access: Access
    ref: Hashable | None = None  # the guard's handle for this socket's sign-in, given back on re-checks
    groups: tuple[str, ...] = ()  # channel-layer groups whose close messages reach this socket


class SocketGuard(Protocol):
    """Synchronous (run in ``database_sync_to_async``); each may query the database."""

    def admit(self, *, user_id: int, session: Any) -> Admission:
        """May ``user_id`` open a socket with this ``scope["session"]`` (None when absent)?"""

    def device_seen(self, *, ref: Hashable | None, device_id: uuid.UUID) -> tuple[str, ...]:
        """The socket's hello named a (registered) device: extra groups to join for it."""

    def recheck(self, refs: list[Hashable]) -> dict[Hashable, Access]:
        """Access of each admitted socket now; a ref missing from the answer is closed."""


_guard: SocketGuard | None = None


def guard_register(guard: SocketGuard) -> None:
    global _guard
    _guard = guard


def guard() -> SocketGuard | None:
    return _guard


def sockets_close(groups: Iterable[str], *, locked: bool = False) -> None:
    """Close the sockets in ``groups`` (4423 when ``locked``, else 4401). A hint sent after commit: never
    raises (the sweeper closes them at its next round if the channel layer is down)."""
    targets = sorted(set(groups))
    if not targets:
        return
    message = {"type": CLOSE_MESSAGE, "access": Access.LOCKED if locked else Access.CLOSED}
    try:
        channel_send_groups(targets, message)
    except Exception:
        log.warning("could not tell %d socket group(s) to close; the sweeper will", len(targets), exc_info=True)
