"""Machine clients (the CAD) authenticate with a hashed API key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey, User

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


@pytest.fixture
def service_user(make_user: Callable[..., Any]) -> Any:
    return make_user("cad-integration", "dispatcher")


@pytest.fixture
def key_and_secret(service_user: Any) -> tuple[ApiKey, str]:
    return ApiKey.generate(name="Durham CAD", user=service_user, scopes=["api:read", "api:write"])


def call_me(header: str | None) -> Any:
    client = APIClient(enforce_csrf_checks=True)
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client.get(ME)


def test_the_right_key_authenticates_as_its_service_user(key_and_secret: tuple[ApiKey, str], service_user: Any) -> None:
    _, secret = key_and_secret
    response = call_me(f"Api-Key {secret}")
    assert response.status_code == 200
    assert response.json()["username"] == "cad-integration"
    assert response.json()["roles"] == ["dispatcher"]


def test_an_api_key_client_can_write_without_a_csrf_token(make_user: Callable[..., Any]) -> None:
    sup = make_user("svc-sup", "supervisor")
    _, sup_secret = ApiKey.generate(name="scheduler", user=sup, scopes=["api:write"])
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {sup_secret}")
    # Reaches validation (400), not a CSRF refusal (403).
    assert client.post("/api/v1/shifts/", {}, format="json").status_code == 400


def test_the_stored_hash_is_not_the_secret(key_and_secret: tuple[ApiKey, str]) -> None:
    key, full = key_and_secret
    prefix, _, secret = full.partition(".")
    key.refresh_from_db()
    assert key.prefix == prefix
    assert secret not in key.hashed_secret
    assert key.hashed_secret != secret
    assert len(key.hashed_secret) == 64
    assert key.matches(secret)
    assert not key.matches(secret + "x")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda prefix, secret: f"Api-Key {prefix}.{secret}x", id="wrong secret"),
        pytest.param(lambda prefix, secret: f"Api-Key deadbeef.{secret}", id="unknown prefix"),
        pytest.param(lambda prefix, secret: f"Api-Key {prefix}", id="no secret"),
        pytest.param(lambda prefix, secret: f"Api-Key {prefix}.", id="empty secret"),
        pytest.param(lambda prefix, secret: "Api-Key ", id="empty key"),
        pytest.param(lambda prefix, secret: "Api-Key not-a-key", id="malformed"),
        pytest.param(lambda prefix, secret: f"Api-Key .{secret}", id="empty prefix"),
    ],
)
def test_a_bad_api_key_is_a_401_and_touches_nothing(
    key_and_secret: tuple[ApiKey, str], header: Callable[[str, str], str]
) -> None:
    key, full = key_and_secret
    prefix, _, secret = full.partition(".")
    response = call_me(header(prefix, secret))
    assert response.status_code == 401
    assert response.json()["message"]
    key.refresh_from_db()
    assert key.last_used_at is None
    assert ApiKey.objects.count() == 1


def test_a_missing_key_is_a_401(key_and_secret: tuple[ApiKey, str]) -> None:
    assert call_me(None).status_code == 401


def test_a_revoked_key_is_a_401(key_and_secret: tuple[ApiKey, str]) -> None:
    key, secret = key_and_secret
    key.revoked_at = timezone.now()
    key.save()
    assert call_me(f"Api-Key {secret}").status_code == 401
    key.refresh_from_db()
    assert key.last_used_at is None


def test_a_key_of_a_deactivated_service_user_is_a_401(key_and_secret: tuple[ApiKey, str], service_user: Any) -> None:
    _, secret = key_and_secret
    service_user.is_active = False
    service_user.save()
    assert call_me(f"Api-Key {secret}").status_code == 401


def test_a_used_key_records_when_at_most_once_a_minute(key_and_secret: tuple[ApiKey, str]) -> None:
    key, secret = key_and_secret
    first = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    with time_machine.travel(first, tick=False):
        call_me(f"Api-Key {secret}")
    key.refresh_from_db()
    assert key.last_used_at == first
    with time_machine.travel(first + dt.timedelta(seconds=30), tick=False):
        call_me(f"Api-Key {secret}")
    key.refresh_from_db()
    assert key.last_used_at == first
    with time_machine.travel(first + dt.timedelta(minutes=2), tick=False):
        call_me(f"Api-Key {secret}")
    key.refresh_from_db()
    assert key.last_used_at == first + dt.timedelta(minutes=2)


def test_create_api_key_prints_a_working_key_once_and_stores_only_its_hash() -> None:
    out = StringIO()
    call_command("create_api_key", "--name", "Durham CAD", "--scope", "api:read", stdout=out)
    secret, signing_line = out.getvalue().strip().splitlines()
    assert signing_line.startswith("signing secret: ")
    key = ApiKey.objects.get()
    assert key.user.username == "cad-integration"
    assert not key.user.has_usable_password()
    assert secret.split(".")[1] not in key.hashed_secret
    assert call_me(f"Api-Key {secret}").status_code == 200
    call_command("create_api_key", "--name", "second", stdout=StringIO())
    assert User.objects.filter(username="cad-integration").count() == 1
    assert ApiKey.objects.count() == 2
