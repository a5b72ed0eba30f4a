"""This process's view of the channel layer's health: up, or down since when.

When Redis goes away every consumer's receive loop and every ``group_add`` fails at once. Instead of
one traceback per socket (and a crashed socket each), the first failure marks the layer down here and
logs ONE warning; consumers then wait for it to come back (``wait_until_back``) while the sweeper
(sweeper.py) serves their sockets from the database every ``EVENTS_DEGRADED_POLL_SECONDS`` and probes
the layer by re-joining every socket's groups. The first probe that succeeds marks it up again and
logs ONE warning ("back after n s"). Senders (``services.ring``) use ``send_failed`` / ``send_ok`` for
the same one-line-per-outage logging.

State is per process; the asyncio events belong to the loop that serves the sockets (one per
uvicorn worker), and are re-made when a new loop asks (tests make a loop per test).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

log = logging.getLogger(__name__)

_lock = threading.Lock()
_down_since: float | None = None
_cause: str = ""
_send_down_since: float | None = None
_loop: asyncio.AbstractEventLoop | None = None
_back: asyncio.Event | None = None
_down: asyncio.Event | None = None


def _events() -> tuple[asyncio.Event, asyncio.Event]:
    """(back, down) for the running loop: ``back`` is set while the layer is up, ``down`` while down."""
    global _loop, _back, _down
    loop = asyncio.get_running_loop()
    if _loop is not loop or _back is None or _down is None:
        _loop, _back, _down = loop, asyncio.Event(), asyncio.Event()
        if _down_since is None:
            _back.set()
        else:
            _down.set()
    return _back, _down


def is_down() -> bool:
    return _down_since is not None


def down_for() -> float:
    """Seconds since the layer went down (0 when it is up)."""
    since = _down_since
    return 0.0 if since is None else time.monotonic() - since


def failed(exc: BaseException, where: str) -> None:
    """A receive, ``group_add`` or probe failed: mark the layer down (one warning per outage)."""
    global _down_since, _cause
    with _lock:
        first = _down_since is None
        if first:
            _down_since = time.monotonic()
            _cause = f"{type(exc).__name__}: {exc}"
    if first:
        log.warning(
            "channel layer unavailable (%s in %s); sockets stay open and are served from the database until it is back",
            _cause,
            where,
        )
    try:
        back, down = _events()
    except RuntimeError:  # no running loop (a sync caller): the flag above is enough
        return
    back.clear()
    down.set()


def recovered() -> None:
    """A probe or a receive succeeded: mark the layer up (one warning per outage, with its length)."""
    global _down_since
    with _lock:
        since = _down_since
        _down_since = None
    if since is not None:
        log.warning("channel layer back after %.1f s; sockets re-joined their groups", time.monotonic() - since)
    try:
        back, down = _events()
    except RuntimeError:
        return
    down.clear()
    back.set()


async def wait_until_back(timeout: float) -> bool:
    """Wait (at most ``timeout`` s) for the layer to be marked up; True if it is up."""
    back, _down = _events()
    if back.is_set():
        return True
    try:
        await asyncio.wait_for(back.wait(), timeout)
    except TimeoutError:
        return False
    return True


async def wait_until_down(timeout: float) -> bool:
    """Wait (at most ``timeout`` s) for the layer to be marked down: the sweeper's interruptible sleep."""
    _back, down = _events()
    if down.is_set():
        return True
    try:
        await asyncio.wait_for(down.wait(), timeout)
    except TimeoutError:
        return False
    return True


def send_failed(count: int) -> None:
    """``ring()`` could not reach the layer: one warning per outage of this process's sender."""
    global _send_down_since
    with _lock:
        first = _send_down_since is None
        if first:
            _send_down_since = time.monotonic()
    if first:
        log.warning(
            "channel layer unavailable for sending; %d event(s) (and later ones) will be delivered by the "
            "sockets' database replay until it is back",
            count,
            exc_info=True,
        )


def send_ok() -> None:
    global _send_down_since
    with _lock:
        since = _send_down_since
        _send_down_since = None
    if since is not None:
        log.warning("channel layer reachable again for sending after %.1f s", time.monotonic() - since)


def reset_for_tests() -> None:
    global _down_since, _send_down_since, _loop, _back, _down
    with _lock:
        _down_since = _send_down_since = None
        _loop = _back = _down = None


__all__ = [
    "down_for",
    "failed",
    "is_down",
    "recovered",
    "reset_for_tests",
    "send_failed",
    "send_ok",
    "wait_until_back",
    "wait_until_down",
]
