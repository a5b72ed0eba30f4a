"""Create the VAPID key pair for Web Push and store it in WEBPUSH_VAPID_KEY_FILE (mode 0600)."""

from __future__ import annotations

import json
import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.realtime.push import vapid_keys_generate


class Command(BaseCommand):
    help = "Generate VAPID keys for Web Push (keeps existing keys unless --force)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Replace existing keys (devices re-subscribe).")
        parser.add_argument("--print-env", action="store_true", help="Print them as environment lines instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        keys = vapid_keys_generate()
        if options["print_env"]:
            self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={keys['public_key']}")
            self.stdout.write(f"WEBPUSH_VAPID_PRIVATE_KEY={keys['private_key']}")
            return
        path = settings.WEBPUSH_VAPID_KEY_FILE
        if path.exists() and not options["force"]:
            self.stdout.write(f"VAPID keys already in {path}; use --force to replace them.")
            return
        if path.exists() and not path.is_file():
            raise CommandError(f"{path} is not a file")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(keys, fh)
        self.stdout.write(f"VAPID keys written to {path}. Public key: {keys['public_key']}")
