"""The app served over HTTP (pytest-django's live server), the local fake of Twilio configured as its
provider with the live server as the public address, so the fake's signed webhooks reach the real
views. Sweeps run in the test process (what beat runs every few seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.notifications.tests.fake_twilio import FakeTwilio, FakeTwilioServer, configure


@pytest.fixture
def live_fake_twilio(live_server: Any, settings: Any) -> Iterator[FakeTwilio]:
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    with FakeTwilioServer() as fake:
        configure(settings, fake, live_server.url)
        yield fake
