from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import ApiKeyScope, User
from apps.security.apikeys import apikey_create


class Command(BaseCommand):
    help = (
        "Create an API key for a machine client (e.g. the CAD). Prints the key (first line) and its "
        "HMAC signing secret (second line) once; only a hash of the key is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="What the key is for, e.g. 'Durham CAD'.")
        parser.add_argument(
            "--user",
            default="cad-integration",
            help="Service account the key acts as (created, without password, if missing).",
        )
        parser.add_argument(
            "--scope",
            action="append",
            choices=ApiKeyScope.values,
            help=f"What the key may call (repeatable; default {ApiKeyScope.CAD_INTAKE.value}).",
        )
        parser.add_argument(
            "--require-signature",
            action="store_true",
            help="Refuse requests without a valid X-Signature (HMAC-SHA256 over timestamp and body).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user, created = User.objects.get_or_create(username=options["user"], defaults={"first_name": "Service"})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        try:
            issued = apikey_create(
                name=options["name"],
                user=user,
                scopes=options["scope"] or [ApiKeyScope.CAD_INTAKE],
                requires_signature=options["require_signature"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(issued.secret)
        self.stdout.write(f"signing secret: {issued.signing_secret}")
