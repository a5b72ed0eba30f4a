from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request


def client_ip(request: HttpRequest | Request) -> str | None:
    """The client's address. ``X-Forwarded-For`` is trusted only behind ``SECURITY_TRUSTED_PROXY_COUNT``
    reverse proxies (default 0: a client could otherwise pick any address and dodge per-IP limits)."""
    meta = request.META
    hops = int(getattr(settings, "SECURITY_TRUSTED_PROXY_COUNT", 0))
    if hops > 0:
        forwarded = [p.strip() for p in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if p.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    addr = meta.get("REMOTE_ADDR")
    return str(addr) if addr else None
