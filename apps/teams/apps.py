from __future__ import annotations

from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "apps.teams"
    label = "teams"

    def ready(self) -> None:
        from apps.realtime import registry

        from . import events

        registry.register(*events.EVENTS)
