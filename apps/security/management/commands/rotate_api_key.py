from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import ApiKey
from apps.security.apikeys import apikey_rotate


class Command(BaseCommand):
    help = (
        "Rotate an API key: prints the new key (first line) and signing secret (second line) once. The old "
        "ones keep working for the grace period (SECURITY_APIKEY_ROTATION_GRACE_SECONDS, or --grace-seconds; "
        "0 for a leaked key)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix", help="The key's public prefix (the part before the dot).")
        parser.add_argument("--grace-seconds", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        key = ApiKey.objects.filter(prefix=options["prefix"]).first()
        if key is None:
            raise CommandError(f"No API key with prefix {options['prefix']!r}.")
        if not key.is_active:
            raise CommandError("This key is revoked; create a new one instead.")
        grace = options["grace_seconds"]
        if grace is not None and grace < 0:
            raise CommandError("--grace-seconds must be 0 or more.")
        issued = apikey_rotate(key=key, grace_seconds=grace)
        self.stdout.write(issued.secret)
        self.stdout.write(f"signing secret: {issued.signing_secret}")
        until = issued.key.previous_valid_until
        self.stderr.write(
            f"The previous secret works until {until.isoformat()}." if until else "The previous secret stopped now."
        )
