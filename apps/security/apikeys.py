"""API-key lifecycle: create, rotate, revoke. Each one is audited; the admin and the
management commands call these, nothing else writes keys. Secrets are returned once, never logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ApiKey, ApiKeyScope, User

from .audit import Kind, record


@dataclass(frozen=True)
class IssuedKey:
    """What to show the person once: the key header value and the HMAC signing secret."""

    key: ApiKey
    secret: str  # "<prefix>.<secret>"
    signing_secret: str


def apikey_create(
    *,
    name: str,
    user: User,
    scopes: list[str] | tuple[str, ...] = (ApiKeyScope.CAD_INTAKE,),
    requires_signature: bool = False,
    by: Any = None,
    request: Any = None,
) -> IssuedKey:
    with transaction.atomic():
        key, secret = ApiKey.generate(name=name, user=user, scopes=scopes, requires_signature=requires_signature)
        record(
            Kind.APIKEY_CREATED,
            request=request,
            user=by if by is not None and getattr(by, "pk", None) else None,
            api_key=key.prefix,
            service_user=user.username,
            scopes=key.scopes,
            requires_signature=requires_signature,
        )
    return IssuedKey(key=key, secret=secret, signing_secret=key.signing_secret)


def apikey_rotate(*, key: ApiKey, grace_seconds: int | None = None, by: Any = None, request: Any = None) -> IssuedKey:
    """New secret and signing secret. The old pair keeps working ``grace_seconds`` (default
    ``SECURITY_APIKEY_ROTATION_GRACE_SECONDS``; 0 = at once, for a leaked key)."""
    grace = int(settings.SECURITY_APIKEY_ROTATION_GRACE_SECONDS if grace_seconds is None else grace_seconds)
    grace = max(0, grace)
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        secret = locked.rotate(grace_seconds=grace)
        record(
            Kind.APIKEY_ROTATED,
            request=request,
            user=by if by is not None and getattr(by, "pk", None) else None,
            api_key=locked.prefix,
            grace_seconds=grace,
        )
    return IssuedKey(key=locked, secret=secret, signing_secret=locked.signing_secret)


@transaction.atomic
def apikey_revoke(*, key: ApiKey, by: Any = None, request: Any = None) -> bool:
    """Stop the key (current and previous secret) at once. False if it was already revoked."""
    updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if updated:
        record(
            Kind.APIKEY_REVOKED,
            request=request,
            user=by if by is not None and getattr(by, "pk", None) else None,
            api_key=key.prefix,
        )
    return bool(updated)
