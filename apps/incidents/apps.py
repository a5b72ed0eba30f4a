from __future__ import annotations

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "apps.incidents"
    label = "incidents"

    def ready(self) -> None:
        from apps.realtime import registry

        from . import delivery, events

        registry.register(*events.EVENTS)
        # realtime's escalation asks incidents about its offers through these hooks (delivery.py).
        delivery.register()
