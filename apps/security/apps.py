from __future__ import annotations

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "apps.security"
    label = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        from apps.realtime.guard import guard_register

        from . import sessions  # noqa: F401 - connects the sign-in / sign-out receivers
        from .socket_guard import SessionSocketGuard

        # Event sockets follow the session rules (connect, the sweeper's re-check, device link).
        guard_register(SessionSocketGuard())
