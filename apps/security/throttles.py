"""Rate limits (issue 8 item 6): one DRF throttle that picks the scope, counters in Django's cache.

- ``throttle_scope = "login"`` on a view (sign-in, MFA, unlock): per submitted username
  (``SECURITY_RATE_LOGIN``) and per client IP (``SECURITY_RATE_LOGIN_IP``, looser: a station or a
  hospital shares one address at shift change).
- ``throttle_scope = "cad"`` (CAD intake): per API key (``SECURITY_RATE_CAD``).
- any other view: unsafe methods per user, or per IP when anonymous (``SECURITY_RATE_WRITE``);
  safe methods are not limited.

Rates are read from settings on every request (tests and deployments can change them live). Each
limit is a fixed window counter: ``cache.add`` starts the window, ``cache.incr`` counts atomically
(Redis INCR; LocMem holds a lock), so concurrent requests never both take the last slot. A window
boundary may let up to twice the rate through in a short burst; that is accepted for simplicity.
A refused request is answered 429 with ``Retry-After`` (seconds to the window's end).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from .audit import Kind, record
from .ip import client_ip

PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(text: str) -> Rate:
    """``"10/min"`` → Rate(10, 60); also ``"5/30s"``-style is not supported: a count per one unit."""
    count_text, _, unit = str(text).strip().partition("/")
    try:
        count = int(count_text)
        seconds = PERIODS[unit.strip().lower()]
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"Rate {text!r} is not 'N/s|min|hour|day'.") from exc
    if count < 1:
        raise ImproperlyConfigured(f"Rate {text!r} must allow at least one request.")
    return Rate(count, seconds)


def _digest(value: str) -> str:
    # Usernames and key prefixes become cache keys: hashed, so any input is a valid, short key.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def hit(bucket: str, rate: Rate, *, now: float | None = None) -> int:
    """Count one request in ``bucket``'s current window. Returns 0 if allowed, else seconds to wait."""
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    key = f"rl:{bucket}:{rate.seconds}:{window}"
    # +1 s of slack so the key outlives its window even with clock jitter between processes.
    if cache.add(key, 1, timeout=rate.seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: this request starts the window
            cache.add(key, 1, timeout=rate.seconds + 1)
            count = 1
    if count <= rate.count:
        return 0
    return max(1, int((window + 1) * rate.seconds - now + 0.999))


def _rate_setting(name: str) -> Rate:
    return parse_rate(str(getattr(settings, name)))


def _submitted_username(request: Request) -> str:
    try:
        data: Any = request.data
    except Exception:  # unparsable body: the view answers 400 itself; only the IP limit applies
        return ""
    if isinstance(data, dict):
        value = data.get("username")
        if isinstance(value, str):
            return value.strip().lower()[:150]
    return ""


class SecurityRateThrottle(BaseThrottle):
    """The one default throttle (REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"])."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def buckets(self, request: Request, view: Any) -> list[tuple[str, str, Rate]]:
        """(scope, bucket, rate) triples this request counts against."""
        scope = getattr(view, "throttle_scope", None)
        ip = client_ip(request) or "unknown"
        if scope == "login":
            out = [("login", f"login-ip:{_digest(ip)}", _rate_setting("SECURITY_RATE_LOGIN_IP"))]
            username = _submitted_username(request)
            if username:
                out.append(("login", f"login-user:{_digest(username)}", _rate_setting("SECURITY_RATE_LOGIN")))
            return out
        if scope == "cad":
            key = getattr(request, "auth", None)
            ident = f"key:{getattr(key, 'prefix', '')}" if getattr(key, "prefix", None) else f"ip:{ip}"
            return [("cad", f"cad:{_digest(ident)}", _rate_setting("SECURITY_RATE_CAD"))]
        if request.method in SAFE_METHODS:
            return []
        user = getattr(request, "user", None)
        ident = f"user:{user.pk}" if user is not None and user.is_authenticated else f"ip:{ip}"
        return [("write", f"write:{_digest(ident)}", _rate_setting("SECURITY_RATE_WRITE"))]

    def allow_request(self, request: Request, view: Any) -> bool:
        for scope, bucket, rate in self.buckets(request, view):
            wait = hit(bucket, rate)
            if wait:
                self._wait = wait
                _audit_once(request, scope=scope, bucket=bucket, rate=rate)
                return False
        return True

    def wait(self) -> float | None:
        return self._wait


def _audit_once(request: Request, *, scope: str, bucket: str, rate: Rate) -> None:
    """Record ``rate_limited`` at most once a minute per bucket (a flood must not flood the audit)."""
    # Keyed by the minute (not only a TTL): the cache's clock (Redis) and ours agree on it.
    if not cache.add(f"rl-audit:{bucket}:{int(time.time() // 60)}", 1, timeout=61):
        return
    prefix = getattr(getattr(request, "auth", None), "prefix", None)
    details: dict[str, Any] = {"scope": scope, "method": request.method, "limit": f"{rate.count}/{rate.seconds}s"}
    if prefix:
        details["api_key"] = prefix
    username = _submitted_username(request) if scope == "login" else ""
    record(Kind.RATE_LIMITED, request=request, username=username, **details)
