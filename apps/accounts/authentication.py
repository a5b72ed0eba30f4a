from __future__ import annotations

import datetime as dt

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .models import ApiKey, User

HEADER_PREFIX = "Api-Key "


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Api-Key <prefix>.<secret>`` for machine clients. A bad key is a 401."""

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith(HEADER_PREFIX):
            return None
        prefix, _, secret = header[len(HEADER_PREFIX) :].strip().partition(".")
        key = ApiKey.objects.select_related("user").filter(prefix=prefix).first() if prefix and secret else None
        if key is None or not key.matches(secret) or not key.is_active or not key.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        now = timezone.now()
        # Touch at most once a minute: the CAD may post several calls a second.
        if key.last_used_at is None or now - key.last_used_at > dt.timedelta(minutes=1):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key.user, key

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
            "description": "`Api-Key <prefix>.<secret>` for machine clients (e.g. the CAD).",
        }
