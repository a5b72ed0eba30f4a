from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone

from apps.core.crypto import EncryptedTextField

from .roles import ALL_ROLES, STAFF_ROLES


def _new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class User(AbstractUser):
    """A person with a unique login (no shared logins, also on team phones: HIPAA 164.312(a))."""

    # Secret part of the personal iCalendar feed URL; calendar apps cannot log in.
    calendar_token = models.CharField(max_length=64, unique=True, default=_new_calendar_token, editable=False)
    phone = models.CharField(max_length=32, blank=True)

    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def roles(self) -> frozenset[str]:
        # Cached per instance: a request asks many times; prefetch_related("groups") makes it free.
        cached: frozenset[str] | None = getattr(self, "_roles_cache", None)
        if cached is None:
            cached = frozenset(g.name for g in self.groups.all() if g.name in ALL_ROLES)
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def derived_is_staff(self) -> bool:
        return self.is_superuser or bool(self.roles & STAFF_ROLES)


def _hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyScope(models.TextChoices):
    """What a machine client may call. A key acts as its service user, within that user's roles."""

    CAD_INTAKE = "cad:intake", "CAD intake (POST /api/v1/cad/incidents)"
    API_READ = "api:read", "read the API as the service user (GET)"
    API_WRITE = "api:write", "write through the API as the service user (POST/PUT/PATCH/DELETE)"


class ApiKey(models.Model):
    """A key for a machine client (the CAD). Only a SHA-256 of the secret is stored.

    The secret is 32 random bytes, so a fast hash is enough (no dictionary to guess from); the
    8-character public prefix finds the row without scanning. Each key also has a signing secret for
    HMAC request signatures, stored encrypted (apps.core.crypto, the note keys): unlike the key
    secret it must be readable by the server to check a signature. Both are shown once, at creation
    and at each rotation. After a rotation the previous secrets keep working until
    ``previous_valid_until`` (the grace period), then only the new ones do.
    """

    name = models.CharField(max_length=100)
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="api_keys", help_text="The service account acting."
    )
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, blank=True, help_text="What this key may call (see ApiKeyScope).")
    requires_signature = models.BooleanField(
        default=False,
        help_text="Every request must carry X-Signature-Timestamp and X-Signature (HMAC-SHA256 of the body).",
    )
    signing_secret = EncryptedTextField(blank=True, default="", editable=False)
    previous_hashed_secret = models.CharField(max_length=64, blank=True, default="", editable=False)
    previous_signing_secret = EncryptedTextField(blank=True, default="", editable=False)
    previous_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def generate(
        cls,
        *,
        name: str,
        user: User,
        scopes: list[str] | tuple[str, ...] = (ApiKeyScope.CAD_INTAKE,),
        requires_signature: bool = False,
    ) -> tuple[ApiKey, str]:
        """A new key; returns it and ``<prefix>.<secret>`` (shown once). ``key.signing_secret`` is the
        HMAC secret, also to be shown once."""
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        key = cls.objects.create(
            name=name,
            user=user,
            prefix=prefix,
            hashed_secret=_hash_key(secret),
            scopes=clean_scopes(scopes),
            requires_signature=requires_signature,
            signing_secret=new_signing_secret(),
        )
        return key, f"{prefix}.{secret}"

    def rotate(self, *, grace_seconds: int, now: dt.datetime | None = None) -> str:
        """New secret and signing secret; the old pair works ``grace_seconds`` more (0: not at all).
        Returns the new ``<prefix>.<secret>``; the caller saves nothing else (this saves)."""
        now = now or timezone.now()
        secret = secrets.token_urlsafe(32)
        if grace_seconds > 0:
            self.previous_hashed_secret = self.hashed_secret
            self.previous_signing_secret = self.signing_secret
            self.previous_valid_until = now + dt.timedelta(seconds=grace_seconds)
        else:
            self.previous_hashed_secret = ""
            self.previous_signing_secret = ""
            self.previous_valid_until = None
        self.hashed_secret = _hash_key(secret)
        self.signing_secret = new_signing_secret()
        self.rotated_at = now
        self.save(
            update_fields=[
                "previous_hashed_secret",
                "previous_signing_secret",
                "previous_valid_until",
                "hashed_secret",
                "signing_secret",
                "rotated_at",
            ]
        )
        return f"{self.prefix}.{secret}"

    def matches(self, secret: str) -> bool:
        return self.match(secret) is not None

    def match(self, secret: str, *, now: dt.datetime | None = None) -> str | None:
        """Which generation ``secret`` is: "current", "previous" (within the grace period) or None.
        Both comparisons always run (constant time whichever matches)."""
        hashed = _hash_key(secret)
        current = hmac.compare_digest(self.hashed_secret, hashed)
        previous = bool(self.previous_hashed_secret) and hmac.compare_digest(self.previous_hashed_secret, hashed)
        if current:
            return "current"
        now = now or timezone.now()
        if previous and self.previous_valid_until is not None and now < self.previous_valid_until:
            return "previous"
        return None

    def signing_secret_for(self, generation: str) -> str:
        return str(self.previous_signing_secret if generation == "previous" else self.signing_secret)

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def new_signing_secret() -> str:
    return secrets.token_urlsafe(32)


def clean_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    known = set(ApiKeyScope.values)
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise ValueError(f"Unknown API key scope(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
    return sorted(set(scopes))


class SignatureNonce(models.Model):
    """A signature already accepted, kept a little longer than the allowed clock skew so the same
    signed request cannot be replayed inside the window (purged by ``security.signature_nonce_purge``)."""

    digest = models.CharField(max_length=64, unique=True)
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.digest[:12]}… {self.seen_at:%H:%M:%S}"
