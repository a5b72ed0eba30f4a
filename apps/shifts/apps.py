from __future__ import annotations

from django.apps import AppConfig


class ShiftsConfig(AppConfig):
    name = "apps.shifts"
    label = "shifts"

    def ready(self) -> None:
        from apps.realtime import registry

        from . import events

        registry.register(*events.EVENTS)
