"""Rate limits: login per username and per IP, CAD per key, writes per user; 429 + Retry-After."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from apps.security.models import SecurityEvent
from apps.security.throttles import Rate, hit, parse_rate

pytestmark = pytest.mark.django_db

SHIFTS = "/api/v1/shifts/"
T0 = dt.datetime(2026, 6, 1, 12, 0, 10, tzinfo=dt.UTC)  # 10 s into a minute window


@pytest.fixture(autouse=True)
def _fresh_counters(settings: Any) -> None:
    # A fresh key namespace per test (Redis in CI is shared: never flush it).
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


class LoginLike(APIView):
    """Stands in for the sign-in views (they set throttle_scope = "login")."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_scope = "login"

    def post(self, request: Request) -> Response:
        return Response({"ok": True})


def post_login(username: str, ip: str = "10.0.0.1") -> Any:
    request = APIRequestFactory().post("/api/v1/auth/login/", {"username": username}, format="json", REMOTE_ADDR=ip)
    return LoginLike.as_view()(request)


def test_rates_parse_and_bad_rates_are_refused() -> None:
    assert parse_rate("10/min") == Rate(10, 60)
    assert parse_rate("600/minute") == Rate(600, 60)
    assert parse_rate("5/s") == Rate(5, 1)
    assert parse_rate("100/hour") == Rate(100, 3600)
    from django.core.exceptions import ImproperlyConfigured

    for bad in ("ten/min", "10/fortnight", "0/min", "10"):
        with pytest.raises(ImproperlyConfigured):
            parse_rate(bad)


def test_the_window_counts_and_says_how_long_to_wait() -> None:
    rate = Rate(2, 60)
    now = T0.timestamp()
    assert hit("t", rate, now=now) == 0
    assert hit("t", rate, now=now + 1) == 0
    assert hit("t", rate, now=now + 2) == 48  # the window ends at :00 of the next minute
    assert hit("t", rate, now=now + 50) == 0  # next window


def test_writes_are_limited_per_user_with_429_retry_after_and_our_error_shape(
    settings: Any, make_user: Callable[..., Any]
) -> None:
    settings.SECURITY_RATE_WRITE = "3/min"
    sup = make_user("sup", "supervisor")
    other = make_user("sup2", "supervisor")
    client = APIClient()
    client.force_authenticate(sup)
    with time_machine.travel(T0, tick=False):
        assert [client.post(SHIFTS, {}, format="json").status_code for _ in range(3)] == [400, 400, 400]
        refused = client.post(SHIFTS, {}, format="json")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "50"
        body = refused.json()
        assert body["retry_after"] == 50
        assert body["errors"] == {}
        assert "Too many requests" in body["message"]
        # Reads are not limited; another person has their own budget.
        assert client.get(SHIFTS).status_code == 200
        other_client = APIClient()
        other_client.force_authenticate(other)
        assert other_client.post(SHIFTS, {}, format="json").status_code == 400
    with time_machine.travel(T0 + dt.timedelta(seconds=51), tick=False):
        assert client.post(SHIFTS, {}, format="json").status_code == 400


def test_rates_are_read_live_from_settings(settings: Any, make_user: Callable[..., Any]) -> None:
    client = APIClient()
    client.force_authenticate(make_user("sup", "supervisor"))
    settings.SECURITY_RATE_WRITE = "1/min"
    with time_machine.travel(T0, tick=False):
        assert client.post(SHIFTS, {}, format="json").status_code == 400
        assert client.post(SHIFTS, {}, format="json").status_code == 429
        settings.SECURITY_RATE_WRITE = "100/min"
        assert client.post(SHIFTS, {}, format="json").status_code == 400


def test_login_is_limited_per_submitted_username_across_addresses(settings: Any) -> None:
    settings.SECURITY_RATE_LOGIN = "3/min"
    settings.SECURITY_RATE_LOGIN_IP = "100/min"
    with time_machine.travel(T0, tick=False):
        codes = [post_login("Officer1", ip=f"10.0.0.{i}").status_code for i in range(1, 5)]
        assert codes == [200, 200, 200, 429]
        # The same name in another case is the same account.
        assert post_login("officer1", ip="10.0.0.9").status_code == 429
        assert post_login("officer2", ip="10.0.0.9").status_code == 200


def test_login_is_limited_per_ip_across_usernames(settings: Any) -> None:
    settings.SECURITY_RATE_LOGIN = "100/min"
    settings.SECURITY_RATE_LOGIN_IP = "4/min"
    with time_machine.travel(T0, tick=False):
        codes = [post_login(f"user{i}", ip="10.0.0.1").status_code for i in range(5)]
        assert codes == [200, 200, 200, 200, 429]
        refused = post_login("user9", ip="10.0.0.1")
        assert refused.status_code == 429 and refused["Retry-After"] == "50"
        assert post_login("user9", ip="10.0.0.2").status_code == 200


def test_a_rate_limit_hit_is_audited_at_most_once_a_minute_per_bucket(settings: Any) -> None:
    settings.SECURITY_RATE_LOGIN = "1/min"
    with time_machine.travel(T0, tick=False):
        post_login("officer1")
        for _ in range(5):
            assert post_login("officer1").status_code == 429
    events = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.RATE_LIMITED)
    assert events.count() == 1
    event = events.get()
    assert event.username == "officer1"
    assert event.details["scope"] == "login"
    assert event.ip == "10.0.0.1"
    with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):
        post_login("officer1")
        assert post_login("officer1").status_code == 429
    assert events.count() == 2


def test_an_unparsable_login_body_is_still_limited_per_ip_and_never_a_500(settings: Any) -> None:
    settings.SECURITY_RATE_LOGIN_IP = "2/min"
    factory = APIRequestFactory()
    with time_machine.travel(T0, tick=False):
        codes = []
        for _ in range(3):
            request = factory.post("/x", b"{not json", content_type="application/json", REMOTE_ADDR="10.0.0.1")
            codes.append(LoginLike.as_view()(request).status_code)
    assert codes == [200, 200, 429]  # the stand-in view ignores its body; real views answer 400
