"""realtime asks a registered socket guard who may keep a socket; without one it admits nobody."""

from __future__ import annotations

from typing import Any

from apps.realtime import consumers, guard
from apps.realtime.guard import Access


def test_without_a_socket_guard_no_socket_is_admitted(monkeypatch: Any) -> None:
    monkeypatch.setattr(guard, "_guard", None)
    assert consumers._admit(1, {"anything": 1}).access == Access.CLOSED


def test_security_registers_its_session_guard_at_ready() -> None:
    from apps.security.socket_guard import SessionSocketGuard

    assert isinstance(guard.guard(), SessionSocketGuard)
