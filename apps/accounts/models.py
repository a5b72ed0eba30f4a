from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone

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


class ApiKey(models.Model):
    """A key for a machine client (the CAD). Only a SHA-256 of the secret is stored.

    The secret is 32 random bytes, so a fast hash is enough (no dictionary to guess from); the
    8-character public prefix finds the row without scanning.
    """

    name = models.CharField(max_length=100)
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="api_keys", help_text="The service account acting."
    )
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def generate(cls, *, name: str, user: User) -> tuple[ApiKey, str]:
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        key = cls.objects.create(name=name, user=user, prefix=prefix, hashed_secret=_hash_key(secret))
        return key, f"{prefix}.{secret}"

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.hashed_secret, _hash_key(secret))

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
