"""``record()``: the one way to write a security event. Never raises into the caller's request."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from rest_framework.request import Request

from .ip import client_ip
from .models import SecurityEvent

logger = logging.getLogger("apps.security.audit")

Kind = SecurityEvent.Kind


def record(
    kind: str,
    *,
    request: HttpRequest | Request | None = None,
    user: Any = None,
    username: str = "",
    **details: Any,
) -> SecurityEvent | None:
    """Write one event. ``request`` fills ip / user agent / path; ``user`` defaults to the request's
    signed-in user. Outside a transaction it commits on its own; inside one it is part of it (a
    refused request that rolls back still keeps its event only if written outside the atomic block:
    callers that raise inside ``atomic`` should record after leaving it)."""
    ip = None
    agent = ""
    path = ""
    if request is not None:
        ip = client_ip(request)
        agent = str(request.META.get("HTTP_USER_AGENT", ""))[:300]
        path = str(request.path)[:300]
        if user is None:
            candidate = getattr(request, "user", None)
            if candidate is not None and getattr(candidate, "is_authenticated", False):
                user = candidate
    if user is not None and not getattr(user, "pk", None):
        user = None
    if user is not None and not username:
        username = str(getattr(user, "username", ""))
    try:
        with transaction.atomic():
            return SecurityEvent.objects.create(
                kind=str(kind),
                user=user,
                username=username[:150],
                ip=ip,
                user_agent=agent,
                path=path,
                details=details,
            )
    except Exception:  # pragma: no cover - the audit must never turn a request into a 500
        logger.exception("could not record security event %s", kind)
        return None


def record_denial(request: HttpRequest | Request, *, reason: str, status: int = 403) -> None:
    """Audit a permission denial (API 403, admin 403, CSRF failure), at most once a minute for the same
    user/address, method and path, so a screen polling an endpoint it may not use cannot flood the log."""
    from django.core.cache import cache

    django_request = getattr(request, "_request", request)
    if getattr(django_request, "security_denial_recorded", False):
        return  # already recorded with more detail (an API key's missing scope)
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        # A CSRF failure fails DRF's authentication (DRF then sets AnonymousUser on both request objects),
        # but the session still says who it is.
        from django.contrib.auth import get_user

        user = get_user(django_request) if hasattr(django_request, "session") else None
    if not getattr(user, "is_authenticated", False):
        user = None
    who = str(user.pk) if user is not None else client_ip(request)
    key = f"sec:denied:{who}:{request.method}:{request.path}"[:250]
    try:
        first = cache.add(key, 1, timeout=60)
    except Exception:  # pragma: no cover - a cache outage must not hide the denial
        first = True
    if first:
        record(
            Kind.PERMISSION_DENIED, request=request, user=user, method=str(request.method), reason=reason, status=status
        )
