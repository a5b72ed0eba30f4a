from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.realtime.tasks import diagnostics_ping


class Command(BaseCommand):
    help = "Queue a Celery task that sends a 'system.ping' event to a user's sockets (checks worker → browser)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="username")
        parser.add_argument("--token", default="", help="echoed in the event (default: random)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        token = options["token"] or uuid.uuid4().hex
        diagnostics_ping.delay(user.pk, token)
        self.stdout.write(token)
