from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The top of the house: commands that build a whole world (``seed_demo``); may import every app."""

    name = "apps.demo"
    label = "demo"
    verbose_name = "Demo data"
