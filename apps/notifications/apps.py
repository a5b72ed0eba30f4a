from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = "SMS and voice notifications"

    def ready(self) -> None:
        from apps.realtime import registry
        from apps.realtime.selectors import register_delivery_board_extension

        from . import events
        from .selectors import board_extend

        registry.register(*events.EVENTS)
        register_delivery_board_extension(board_extend)
