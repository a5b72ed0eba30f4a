"""Web Push to a user's subscribed devices (VAPID, pywebpush).

Push is a wake-up call, never the record: the payload holds a title, a short generic body, a
same-origin URL and a ``tag`` (a repeat replaces the earlier notification). No clinical text, no
names, no addresses: the phone's lock screen is not a private place. ``push_send_to_user`` refuses
any other key.

pywebpush sends ``ttl=0`` unless told otherwise (PITFALLS.md); we always send a TTL and
``Urgency: high``. A 404 / 410 from the push service means the subscription is gone: it is deleted.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pywebpush
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from py_vapid import Vapid02  # type: ignore[import-untyped]

from apps.accounts.models import User

from .models import PushSubscription

log = logging.getLogger(__name__)

ALLOWED_KEYS = frozenset({"title", "body", "url", "tag"})
MAX_LENGTH = {"title": 80, "body": 160, "url": 300, "tag": 100}
GONE = {404, 410}


@dataclass
class PushResult:
    sent: int = 0
    removed: int = 0
    failed: int = 0
    endpoints: list[str] = field(default_factory=list)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def vapid_keys_generate() -> dict[str, str]:
    """A new P-256 key pair: private as raw base64url (32 bytes), public as the uncompressed point
    (the browser's ``applicationServerKey``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    numbers = key.public_key().public_numbers()
    public = b"\x04" + numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
    return {"private_key": _b64url(private), "public_key": _b64url(public)}


@lru_cache(maxsize=1)
def vapid_keys() -> tuple[str, str]:
    """(private, public) from settings, else from ``WEBPUSH_VAPID_KEY_FILE``."""
    private, public = settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_PUBLIC_KEY
    if private and public:
        return private, public
    path = settings.WEBPUSH_VAPID_KEY_FILE
    try:
        stored = json.loads(path.read_text())
        return str(stored["private_key"]), str(stored["public_key"])
    except (OSError, ValueError, KeyError) as exc:
        raise ImproperlyConfigured(
            "No VAPID keys: set WEBPUSH_VAPID_PRIVATE_KEY / WEBPUSH_VAPID_PUBLIC_KEY or run "
            "`manage.py generate_vapid_keys`."
        ) from exc


def _checked(payload: Mapping[str, Any]) -> dict[str, str]:
    extra = set(payload) - ALLOWED_KEYS
    if extra:
        raise ValueError(f"push payloads carry only {sorted(ALLOWED_KEYS)}; refused {sorted(extra)}")
    out = {}
    for key, value in payload.items():
        if not isinstance(value, str):
            raise ValueError(f"push payload field {key!r} must be a string")
        if len(value) > MAX_LENGTH[key]:
            raise ValueError(f"push payload field {key!r} is longer than {MAX_LENGTH[key]}")
        out[key] = value
    if "url" in out and not out["url"].startswith("/"):
        raise ValueError("push payload url must be a same-origin path")
    return out


def _send(subscription: PushSubscription, data: str) -> int:
    """One push; returns the push service's HTTP status (201 on success)."""
    private, _public = vapid_keys()
    try:
        response = pywebpush.webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=data,
            vapid_private_key=Vapid02.from_string(private),
            vapid_claims={"sub": settings.WEBPUSH_VAPID_SUBJECT},
            ttl=settings.WEBPUSH_TTL_SECONDS,
            headers={"Urgency": "high"},
            timeout=settings.WEBPUSH_TIMEOUT_SECONDS,
        )
    except pywebpush.WebPushException as exc:
        status = getattr(exc.response, "status_code", None)
        return int(status) if status is not None else 0
    return int(getattr(response, "status_code", 201))


def push_send_to_users(users: Iterable[User | int], payload: Mapping[str, Any]) -> PushResult:
    """Push ``payload`` to every subscribed, non-revoked device of ``users``. Never raises for a
    push service failure (logged and counted); raises ``ValueError`` for a payload it refuses.

    Call it outside any transaction (network I/O; PITFALLS.md: never hold row locks across it).
    """
    data = json.dumps(_checked(payload))
    ids = [u if isinstance(u, int) else u.pk for u in users]
    result = PushResult()
    subscriptions = PushSubscription.objects.filter(user_id__in=ids, device__revoked_at__isnull=True).order_by("id")
    for subscription in subscriptions:
        try:
            status = _send(subscription, data)
        except Exception:
            log.warning("push to subscription %s failed", subscription.pk, exc_info=True)
            result.failed += 1
            continue
        if 200 <= status < 300:
            result.sent += 1
            result.endpoints.append(subscription.endpoint)
            PushSubscription.objects.filter(pk=subscription.pk).update(last_success_at=timezone.now())
        elif status in GONE:
            PushSubscription.objects.filter(pk=subscription.pk).delete()
            result.removed += 1
        else:
            log.warning("push service answered %s for subscription %s", status, subscription.pk)
            result.failed += 1
    return result


def push_send_to_user(user: User | int, payload: Mapping[str, Any]) -> PushResult:
    """Push ``payload`` ({title, body, url, tag}; generic text only) to every device of ``user``."""
    return push_send_to_users([user], payload)
