"""CAD API keys: scopes, rotation with a grace period, HMAC signatures with replay refusal, audit."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey, ApiKeyScope, SignatureNonce
from apps.security.apikeys import apikey_create, apikey_revoke, apikey_rotate
from apps.security.models import SecurityEvent
from apps.security.signatures import sign
from apps.security.tasks import signature_nonce_purge

pytestmark = pytest.mark.django_db

CAD = "/api/v1/cad/incidents"
EIDO = (Path(__file__).resolve().parents[2] / "incidents" / "tests" / "data" / "eido_incident.json").read_bytes()
Kind = SecurityEvent.Kind


@pytest.fixture(autouse=True)
def _fresh_cache(settings: Any) -> None:
    # A fresh key namespace per test (Redis in CI is shared: never flush it).
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture
def cad_user(make_user: Callable[..., Any]) -> Any:
    return make_user("cad-durham")


def post_cad(secret: str, headers: dict[str, str] | None = None) -> Any:
    client = APIClient(enforce_csrf_checks=True)
    extra: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Api-Key {secret}", **(headers or {})}
    return client.post(CAD, EIDO, content_type="application/json", **extra)


def signed_headers(signing_secret: str, body: bytes = EIDO, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {"HTTP_X_SIGNATURE_TIMESTAMP": str(ts), "HTTP_X_SIGNATURE": sign(signing_secret, ts, body)}


def events(kind: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(kind=kind).order_by("created_at"))


# --- scopes -----------------------------------------------------------------------------------------


def test_a_cad_key_can_post_incidents_but_not_read_the_api(cad_user: Any) -> None:
    issued = apikey_create(name="Durham CAD", user=cad_user)
    assert issued.key.scopes == ["cad:intake"]
    assert post_cad(issued.secret).status_code == 201
    client = APIClient()
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {issued.secret}")
    assert response.status_code == 403
    assert "api:read" in response.json()["message"]
    denied = events(Kind.PERMISSION_DENIED)
    assert len(denied) == 1
    assert denied[0].details["scope"] == "api:read"
    assert denied[0].details["api_key"] == issued.key.prefix
    assert denied[0].user == cad_user


def test_a_key_without_cad_intake_is_refused_at_the_cad_endpoint_and_nothing_is_stored(cad_user: Any) -> None:
    from apps.incidents.models import Incident

    issued = apikey_create(name="reader", user=cad_user, scopes=[ApiKeyScope.API_READ])
    response = post_cad(issued.secret)
    assert response.status_code == 403
    assert response.json()["errors"] == {}
    assert Incident.objects.count() == 0
    assert events(Kind.PERMISSION_DENIED)[0].details["scope"] == "cad:intake"


def test_unknown_scopes_are_refused_at_creation(cad_user: Any) -> None:
    with pytest.raises(ValueError, match="Unknown API key scope"):
        apikey_create(name="x", user=cad_user, scopes=["everything"])


# --- hashed at rest, audit of use and failure -------------------------------------------------------


def test_secrets_are_hashed_or_encrypted_at_rest(cad_user: Any) -> None:
    issued = apikey_create(name="Durham CAD", user=cad_user, requires_signature=True)
    secret = issued.secret.split(".", 1)[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apikey WHERE id = %s", [issued.key.pk])
        row = " ".join(str(v) for v in cursor.fetchone())
    assert secret not in row
    assert issued.signing_secret not in row  # a Fernet token, not the secret
    assert ApiKey.objects.get().signing_secret == issued.signing_secret
    assert events(Kind.APIKEY_CREATED)[0].details["api_key"] == issued.key.prefix
    assert secret not in json.dumps([e.details for e in SecurityEvent.objects.all()])


def test_use_is_audited_at_most_once_a_minute_and_failures_are_audited(cad_user: Any) -> None:
    issued = apikey_create(name="Durham CAD", user=cad_user)
    t0 = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    with time_machine.travel(t0, tick=False):
        assert post_cad(issued.secret).status_code == 201
        assert post_cad(issued.secret).status_code == 200
    with time_machine.travel(t0 + dt.timedelta(minutes=2), tick=False):
        assert post_cad(issued.secret).status_code == 200
    assert len(events(Kind.APIKEY_USED)) == 2
    wrong = f"{issued.key.prefix}.not-the-secret"
    for _ in range(3):
        assert post_cad(wrong).status_code == 401
    failed = events(Kind.APIKEY_FAILED)
    assert len(failed) == 1  # a loop of wrong keys is one row a minute per address
    assert failed[0].details == {"api_key": issued.key.prefix, "reason": "wrong_secret", "method": "POST"}


def test_a_revoked_key_stops_and_the_revocation_is_audited(cad_user: Any) -> None:
    issued = apikey_create(name="Durham CAD", user=cad_user)
    assert apikey_revoke(key=issued.key) is True
    assert apikey_revoke(key=issued.key) is False
    assert post_cad(issued.secret).status_code == 401
    assert len(events(Kind.APIKEY_REVOKED)) == 1
    assert events(Kind.APIKEY_FAILED)[0].details["reason"] == "revoked"


# --- rotation ---------------------------------------------------------------------------------------


def test_rotation_keeps_the_old_secret_for_the_grace_period_only(cad_user: Any) -> None:
    issued = apikey_create(name="Durham CAD", user=cad_user)
    t0 = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    with time_machine.travel(t0, tick=False):
        rotated = apikey_rotate(key=issued.key, grace_seconds=3600)
    assert rotated.secret != issued.secret
    assert rotated.secret.split(".")[0] == issued.secret.split(".")[0]  # same prefix: same key row
    assert rotated.signing_secret != issued.signing_secret
    with time_machine.travel(t0 + dt.timedelta(minutes=59), tick=False):
        assert post_cad(issued.secret).status_code == 201
        assert post_cad(rotated.secret).status_code == 200
    with time_machine.travel(t0 + dt.timedelta(minutes=61), tick=False):
        assert post_cad(issued.secret).status_code == 401
        assert post_cad(rotated.secret).status_code == 200
    assert events(Kind.APIKEY_ROTATED)[0].details["grace_seconds"] == 3600


def test_rotation_without_grace_stops_the_old_secret_at_once(cad_user: Any, settings: Any) -> None:
    settings.SECURITY_APIKEY_ROTATION_GRACE_SECONDS = 0
    issued = apikey_create(name="Durham CAD", user=cad_user)
    rotated = apikey_rotate(key=issued.key)
    assert post_cad(issued.secret).status_code == 401
    assert post_cad(rotated.secret).status_code == 201


def test_the_rotate_command_prints_the_new_secrets_once(cad_user: Any) -> None:
    issued = apikey_create(name="Durham CAD", user=cad_user)
    out = StringIO()
    call_command("rotate_api_key", issued.key.prefix, "--grace-seconds", "0", stdout=out, stderr=StringIO())
    secret, signing = out.getvalue().strip().splitlines()
    assert signing == f"signing secret: {ApiKey.objects.get().signing_secret}"
    assert post_cad(secret).status_code == 201
    assert post_cad(issued.secret).status_code == 401


def test_the_create_command_makes_a_signed_cad_key(cad_user: Any) -> None:
    out = StringIO()
    call_command("create_api_key", "--name", "County CAD", "--user", "cad-county", "--require-signature", stdout=out)
    secret, signing_line = out.getvalue().strip().splitlines()
    signing = signing_line.removeprefix("signing secret: ")
    key = ApiKey.objects.get(user__username="cad-county")
    assert key.requires_signature and key.scopes == ["cad:intake"]
    assert post_cad(secret).status_code == 401
    assert post_cad(secret, signed_headers(signing)).status_code == 201


# --- signatures -------------------------------------------------------------------------------------


@pytest.fixture
def signed_key(cad_user: Any) -> Any:
    return apikey_create(name="Durham CAD", user=cad_user, requires_signature=True)


def test_a_correctly_signed_request_is_accepted(signed_key: Any) -> None:
    assert post_cad(signed_key.secret, signed_headers(signed_key.signing_secret)).status_code == 201


@pytest.mark.parametrize(
    ("make_headers", "reason"),
    [
        pytest.param(lambda s, now: {}, "missing", id="unsigned"),
        pytest.param(lambda s, now: {"HTTP_X_SIGNATURE_TIMESTAMP": str(now)}, "missing", id="no signature"),
        pytest.param(lambda s, now: signed_headers(s, timestamp=now - 301), "stale", id="older than 300 s"),
        pytest.param(lambda s, now: signed_headers(s, timestamp=now + 301), "stale", id="from the future"),
        pytest.param(lambda s, now: signed_headers(s, body=b"{}", timestamp=now), "mismatch", id="other body"),
        pytest.param(lambda s, now: signed_headers("wrong-secret", timestamp=now), "mismatch", id="wrong secret"),
        pytest.param(
            lambda s, now: {**signed_headers(s, timestamp=now), "HTTP_X_SIGNATURE_TIMESTAMP": str(now + 1)},
            "mismatch",
            id="timestamp changed",
        ),
        pytest.param(
            lambda s, now: {**signed_headers(s, timestamp=now), "HTTP_X_SIGNATURE_TIMESTAMP": "soon"},
            "bad_timestamp",
            id="not a number",
        ),
        pytest.param(
            lambda s, now: {**signed_headers(s, timestamp=now), "HTTP_X_SIGNATURE": "sha256=zz"},
            "mismatch",
            id="malformed signature",
        ),
    ],
)
def test_a_bad_signature_is_a_401_audited_and_stores_nothing(
    signed_key: Any, make_headers: Callable[[str, int], dict[str, str]], reason: str
) -> None:
    from apps.incidents.models import Incident

    now = int(time.time())
    response = post_cad(signed_key.secret, make_headers(signed_key.signing_secret, now))
    assert response.status_code == 401
    assert response.json()["message"]
    assert Incident.objects.count() == 0
    failed = events(Kind.SIGNATURE_FAILED)
    assert [e.details["reason"] for e in failed] == [reason]
    assert signed_key.signing_secret not in json.dumps(failed[0].details)


def test_a_replayed_signed_request_is_refused_inside_the_window(signed_key: Any) -> None:
    headers = signed_headers(signed_key.signing_secret)
    assert post_cad(signed_key.secret, headers).status_code == 201
    replay = post_cad(signed_key.secret, headers)
    assert replay.status_code == 401
    assert "replay" in replay.json()["message"]
    assert events(Kind.SIGNATURE_FAILED)[0].details["reason"] == "replayed"
    # A fresh signature of the same body (a genuine retry) is fine.
    later = signed_headers(signed_key.signing_secret, timestamp=int(time.time()) + 1)
    assert post_cad(signed_key.secret, later).status_code == 200


def test_a_replay_after_the_window_is_refused_by_its_timestamp_after_the_nonces_are_purged(signed_key: Any) -> None:
    t0 = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    with time_machine.travel(t0, tick=False):
        headers = signed_headers(signed_key.signing_secret)
        assert post_cad(signed_key.secret, headers).status_code == 201
    with time_machine.travel(t0 + dt.timedelta(minutes=11), tick=False):
        assert signature_nonce_purge() == 1
        assert SignatureNonce.objects.count() == 0
        replay = post_cad(signed_key.secret, headers)
    assert replay.status_code == 401
    assert events(Kind.SIGNATURE_FAILED)[0].details["reason"] == "stale"


def test_during_a_rotation_grace_the_old_key_signs_with_the_old_signing_secret(signed_key: Any) -> None:
    rotated = apikey_rotate(key=signed_key.key, grace_seconds=600)
    assert post_cad(signed_key.secret, signed_headers(rotated.signing_secret)).status_code == 401
    assert post_cad(signed_key.secret, signed_headers(signed_key.signing_secret)).status_code == 201
    later = signed_headers(rotated.signing_secret, timestamp=int(time.time()) + 1)
    assert post_cad(rotated.secret, later).status_code == 200


# --- rate limit on the CAD --------------------------------------------------------------------------


def test_the_cad_endpoint_is_limited_per_key(cad_user: Any, make_user: Callable[..., Any], settings: Any) -> None:
    settings.SECURITY_RATE_CAD = "2/min"
    first = apikey_create(name="city", user=cad_user)
    second = apikey_create(name="county", user=make_user("cad-county"))
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, 30, tzinfo=dt.UTC), tick=False):
        assert [post_cad(first.secret).status_code for _ in range(3)] == [201, 200, 429]
        refused = post_cad(first.secret)
        assert refused.status_code == 429 and refused["Retry-After"] == "30"
        assert refused.json()["retry_after"] == 30
        assert post_cad(second.secret).status_code == 201
    limited = events(Kind.RATE_LIMITED)
    assert len(limited) == 1 and limited[0].details["api_key"] == first.key.prefix
