"""``Authorization: Api-Key <prefix>.<secret>`` for machine clients (the CAD).

Order of checks: the key (hashed, revocation, service user active; a rotated-out secret only within
its grace period) → 401; its request signature if the key requires one → 401; the scope the view
needs (``api_key_scope`` on the view, else ``api:read`` for safe methods and ``api:write`` for the
rest) → 403. Each refusal is audited; a use is audited at most once a minute per key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from apps.accounts.models import ApiKey, ApiKeyScope, User

from .audit import Kind, record
from .ip import client_ip
from .signatures import SignatureError, verify

HEADER_PREFIX = "Api-Key "
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def required_scope(request: Request) -> str:
    view = (request.parser_context or {}).get("view")
    scope = getattr(view, "api_key_scope", None)
    if scope:
        return str(scope)
    return str(ApiKeyScope.API_READ if request.method in SAFE_METHODS else ApiKeyScope.API_WRITE)


def _refuse(
    request: Request, *, reason: str, prefix: str, key: ApiKey | None = None
) -> exceptions.AuthenticationFailed:
    # A wrong key can be sent in a loop: audit it at most once a minute per address, prefix and reason.
    bucket = hashlib.sha256(f"{client_ip(request)}|{prefix[:12]}|{reason}".encode()).hexdigest()[:32]
    if cache.add(f"apikey-fail-audit:{bucket}:{int(time.time() // 60)}", 1, timeout=61):
        record(
            Kind.APIKEY_FAILED,
            request=request,
            user=key.user if key is not None else None,
            api_key=prefix[:12],
            reason=reason,
            method=request.method,
        )
    return exceptions.AuthenticationFailed("Invalid or revoked API key.")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """A bad key (or signature) is a 401; a good key without the view's scope is a 403."""

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith(HEADER_PREFIX):
            return None
        prefix, _, secret = header[len(HEADER_PREFIX) :].strip().partition(".")
        key = ApiKey.objects.select_related("user").filter(prefix=prefix).first() if prefix and secret else None
        if key is None:
            raise _refuse(request, reason="unknown" if prefix and secret else "malformed", prefix=prefix)
        generation = key.match(secret)
        if generation is None:
            raise _refuse(request, reason="wrong_secret", prefix=prefix, key=key)
        if not key.is_active:
            raise _refuse(request, reason="revoked", prefix=prefix, key=key)
        if not key.user.is_active:
            raise _refuse(request, reason="user_inactive", prefix=prefix, key=key)
        if key.requires_signature:
            try:
                verify(request, api_key_id=key.pk, signing_secret=key.signing_secret_for(generation))
            except SignatureError as exc:
                record(
                    Kind.SIGNATURE_FAILED,
                    request=request,
                    user=key.user,
                    api_key=key.prefix,
                    reason=exc.reason,
                    method=request.method,
                )
                raise exceptions.AuthenticationFailed(exc.message) from exc
        scope = required_scope(request)
        if not key.has_scope(scope):
            record(
                Kind.PERMISSION_DENIED,
                request=request,
                user=key.user,
                api_key=key.prefix,
                reason="api_key_scope",
                scope=scope,
                method=request.method,
            )
            request._request.security_denial_recorded = True  # type: ignore[attr-defined]  # one audit row
            raise exceptions.PermissionDenied(f"This API key does not have the scope {scope!r}.")
        self._touch(request, key, generation)
        return key.user, key

    def _touch(self, request: Request, key: ApiKey, generation: str) -> None:
        now = timezone.now()
        # At most once a minute (the CAD may post several calls a second); the conditional update
        # makes concurrent requests agree on who writes the audit row.
        last = key.last_used_at
        if last is not None and now - last <= dt.timedelta(minutes=1):
            return
        if ApiKey.objects.filter(pk=key.pk, last_used_at=last).update(last_used_at=now):
            record(
                Kind.APIKEY_USED,
                request=request,
                user=key.user,
                api_key=key.prefix,
                generation=generation,  # "current" or "previous" (in its grace period)
                method=request.method,
            )

    def authenticate_header(self, request: Request) -> str:
        return "Api-Key"


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes the ``Api-Key`` header in the OpenAPI schema (registered by being defined)."""

    target_class = ApiKeyAuthentication
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Api-Key <prefix>.<secret>` for machine clients (e.g. the CAD). Keys have scopes; a key "
                "that requires signatures also sends `X-Signature-Timestamp` and `X-Signature: sha256=<hex>` "
                "(HMAC-SHA256 of `<timestamp>.<raw body>`; docs/cad-intake.md)."
            ),
        }
