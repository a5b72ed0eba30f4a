"""``manage.py diagnostics_ping``: an event made by the Celery task reaches the user's stream."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.realtime.models import Event

pytestmark = pytest.mark.django_db


def test_diagnostics_ping_puts_a_system_ping_in_the_users_stream(dispatcher: Any) -> None:
    out = io.StringIO()
    call_command("diagnostics_ping", "--user", dispatcher.username, "--token", "tok-1", stdout=out)  # eager task
    assert out.getvalue().strip() == "tok-1"
    (event,) = Event.objects.filter(user=dispatcher)
    assert event.type == "system.ping"
    assert event.data["token"] == "tok-1" and event.data["origin"].startswith("worker@")


def test_diagnostics_ping_names_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="nobody"):
        call_command("diagnostics_ping", "--user", "nobody")
