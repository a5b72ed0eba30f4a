from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
import pywebpush
from django.core.management import call_command
from django.urls import reverse

from apps.realtime.models import Device, PushSubscription
from apps.realtime.push import push_send_to_user, vapid_keys

ENDPOINT = "https://push.example.test/send/abc"


@pytest.fixture(autouse=True)
def vapid(tmp_path: Any, settings: Any) -> Iterator[None]:
    settings.WEBPUSH_VAPID_KEY_FILE = tmp_path / "vapid.json"
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    vapid_keys.cache_clear()
    call_command("generate_vapid_keys")
    yield
    vapid_keys.cache_clear()


def subscribe(api: Any, user: Any, device: str | None = None, endpoint: str = ENDPOINT) -> Any:
    return api(user).post(
        reverse("push-subscriptions"),
        {
            "device": device or str(uuid.uuid4()),
            "endpoint": endpoint,
            "keys": {"p256dh": "BNc" + "a" * 84, "auth": "x" * 22},
        },
        format="json",
    )


class FakeResponse:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.text = ""


def test_generate_vapid_keys_writes_a_private_file_once(settings: Any) -> None:
    path = settings.WEBPUSH_VAPID_KEY_FILE
    first = json.loads(path.read_text())
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    call_command("generate_vapid_keys")
    assert json.loads(path.read_text()) == first  # kept without --force
    call_command("generate_vapid_keys", "--force")
    assert json.loads(path.read_text()) != first


def test_vapid_public_key_is_served(api: Any, officer_a: Any, settings: Any) -> None:
    response = api(officer_a).get(reverse("push-vapid-public-key"))
    assert response.status_code == 200
    assert response.json()["public_key"] == json.loads(settings.WEBPUSH_VAPID_KEY_FILE.read_text())["public_key"]


def test_vapid_public_key_needs_a_session(api: Any) -> None:
    assert api(None).get(reverse("push-vapid-public-key")).status_code in (401, 403)


def test_subscribe_registers_the_device_and_is_idempotent(api: Any, officer_a: Any) -> None:
    device = str(uuid.uuid4())
    assert subscribe(api, officer_a, device).status_code == 201
    again = subscribe(api, officer_a, device)
    assert again.status_code == 200 and again.json()["created"] is False
    assert PushSubscription.objects.get().device_id == uuid.UUID(device)
    assert Device.objects.get(pk=device).user == officer_a


@pytest.mark.parametrize(
    "body,field",
    [
        ({"endpoint": ENDPOINT, "keys": {"p256dh": "a", "auth": "b"}}, "device"),
        ({"device": "nope", "endpoint": ENDPOINT, "keys": {"p256dh": "a", "auth": "b"}}, "device"),
        ({"device": str(uuid.uuid4()), "endpoint": "not a url", "keys": {"p256dh": "a", "auth": "b"}}, "endpoint"),
        ({"device": str(uuid.uuid4()), "endpoint": ENDPOINT, "keys": {"p256dh": "a"}}, "keys.auth"),
    ],
)
def test_bad_subscriptions_are_400_with_field_errors(api: Any, officer_a: Any, body: Any, field: str) -> None:
    response = api(officer_a).post(reverse("push-subscriptions"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not PushSubscription.objects.exists() and not Device.objects.exists()


def test_another_users_device_cannot_be_subscribed(api: Any, officer_a: Any, clinician_a: Any) -> None:
    device = str(uuid.uuid4())
    subscribe(api, officer_a, device)
    response = subscribe(api, clinician_a, device, endpoint=ENDPOINT + "2")
    assert response.status_code == 409
    assert PushSubscription.objects.get().user == officer_a


def test_unsubscribe_removes_only_your_own(api: Any, officer_a: Any, clinician_a: Any) -> None:
    device = str(uuid.uuid4())
    subscribe(api, officer_a, device)
    assert api(clinician_a).delete(reverse("push-subscriptions"), {"device": device}, format="json").status_code == 204
    assert PushSubscription.objects.count() == 1
    assert api(officer_a).delete(reverse("push-subscriptions"), {"device": device}, format="json").status_code == 204
    assert not PushSubscription.objects.exists()
    assert api(officer_a).delete(reverse("push-subscriptions"), {}, format="json").status_code == 400


def test_push_sets_ttl_urgency_and_tag_and_carries_no_more_than_allowed(api: Any, officer_a: Any) -> None:
    subscribe(api, officer_a)
    with mock.patch.object(pywebpush, "webpush", return_value=FakeResponse(201)) as webpush:
        result = push_send_to_user(officer_a, {"title": "Co-Response", "body": "Open the app", "tag": "assignment:1"})
    assert result.sent == 1
    kwargs = webpush.call_args.kwargs
    assert kwargs["ttl"] == 86400
    assert kwargs["headers"] == {"Urgency": "high"}
    assert json.loads(kwargs["data"]) == {"title": "Co-Response", "body": "Open the app", "tag": "assignment:1"}
    assert kwargs["subscription_info"]["endpoint"] == ENDPOINT
    assert kwargs["vapid_claims"]["sub"].startswith("mailto:")


@pytest.mark.parametrize(
    "payload", [{"title": "x", "narrative": "patient said ..."}, {"title": "x" * 81}, {"url": "https://evil.test/"}]
)
def test_push_refuses_payloads_outside_the_generic_shape(api: Any, officer_a: Any, payload: Any) -> None:
    subscribe(api, officer_a)
    with mock.patch.object(pywebpush, "webpush") as webpush, pytest.raises(ValueError):
        push_send_to_user(officer_a, payload)
    webpush.assert_not_called()


@pytest.mark.parametrize("status", [404, 410])
def test_an_expired_subscription_is_removed(api: Any, officer_a: Any, status: int) -> None:
    subscribe(api, officer_a)
    error = pywebpush.WebPushException("gone", response=FakeResponse(status))
    with mock.patch.object(pywebpush, "webpush", side_effect=error):
        result = push_send_to_user(officer_a, {"title": "t"})
    assert (result.sent, result.removed) == (0, 1)
    assert not PushSubscription.objects.exists()


def test_a_push_service_error_keeps_the_subscription_and_does_not_raise(api: Any, officer_a: Any) -> None:
    subscribe(api, officer_a)
    with mock.patch.object(
        pywebpush, "webpush", side_effect=pywebpush.WebPushException("boom", response=FakeResponse(500))
    ):
        result = push_send_to_user(officer_a, {"title": "t"})
    assert (result.sent, result.failed) == (0, 1)
    assert PushSubscription.objects.count() == 1


def test_revoked_devices_get_no_push(api: Any, officer_a: Any) -> None:
    from django.utils import timezone

    device = str(uuid.uuid4())
    subscribe(api, officer_a, device)
    Device.objects.filter(pk=device).update(revoked_at=timezone.now())
    with mock.patch.object(pywebpush, "webpush") as webpush:
        assert push_send_to_user(officer_a, {"title": "t"}).sent == 0
    webpush.assert_not_called()


def test_a_real_http_push_service_receives_an_encrypted_request(api: Any, officer_a: Any) -> None:
    """No mock: a local HTTP server plays the push service (201, then 410), through pywebpush."""
    import base64
    import http.server
    import threading

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    seen: list[dict[str, str]] = []
    answers = [201, 410]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            self.rfile.read(length)
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(answers.pop(0))
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        key = ec.generate_private_key(ec.SECP256R1()).public_key()
        p256dh = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        b64 = base64.urlsafe_b64encode(p256dh).rstrip(b"=").decode()
        auth = base64.urlsafe_b64encode(b"0123456789abcdef").rstrip(b"=").decode()
        endpoint = f"http://127.0.0.1:{server.server_port}/push/1"
        PushSubscription.objects.create(
            device=Device.objects.create(id=uuid.uuid4(), user=officer_a, last_seen_at="2026-01-01T00:00:00Z"),
            user=officer_a,
            endpoint=endpoint,
            p256dh=b64,
            auth=auth,
        )
        assert push_send_to_user(officer_a, {"title": "t", "tag": "x"}).sent == 1
        assert seen[0]["ttl"] == "86400" and seen[0]["urgency"] == "high"
        assert seen[0]["content-encoding"] == "aes128gcm" and seen[0]["authorization"].startswith("vapid ")
        assert push_send_to_user(officer_a, {"title": "t"}).removed == 1
        assert not PushSubscription.objects.exists()
    finally:
        server.shutdown()


def test_vapid_public_key_without_keys_is_503_not_500(api: Any, officer_a: Any, settings: Any, tmp_path: Any) -> None:
    settings.WEBPUSH_VAPID_KEY_FILE = tmp_path / "missing.json"
    vapid_keys.cache_clear()
    response = api(officer_a).get(reverse("push-vapid-public-key"))
    assert response.status_code == 503 and "not configured" in response.json()["message"]
