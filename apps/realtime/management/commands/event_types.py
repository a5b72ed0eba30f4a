from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from apps.realtime.registry import catalog


class Command(BaseCommand):
    help = "Print every registered event type with its description and payload schema (JSON, for code generation)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(catalog(), indent=2, sort_keys=True))
