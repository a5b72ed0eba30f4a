from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.accounts.models import ApiKey, User


class Command(BaseCommand):
    help = "Create an API key for a machine client (e.g. the CAD). The key is printed once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="What the key is for, e.g. 'Durham CAD'.")
        parser.add_argument(
            "--user",
            default="cad-integration",
            help="Service account the key acts as (created, without password, if missing).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user, created = User.objects.get_or_create(username=options["user"], defaults={"first_name": "Service"})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        _, secret = ApiKey.generate(name=options["name"], user=user)
        self.stdout.write(secret)
