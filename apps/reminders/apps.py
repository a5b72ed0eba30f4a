from __future__ import annotations

from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "apps.reminders"
    label = "reminders"

    def ready(self) -> None:
        from apps.realtime import registry

        from . import events

        registry.register(*events.EVENTS)
