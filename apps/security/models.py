from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone


class SecurityEvent(models.Model):
    """One security-relevant event: sign-ins, failures, MFA changes, lockouts, revocations, API-key
    use, permission denials (issue 8; DOMAIN.md §6). Append-only (PostgreSQL trigger); kept at least
    ``SECURITY_AUDIT_RETENTION_DAYS`` (≥ 365) days. Never holds passwords, codes or clinical text.
    """

    class Kind(models.TextChoices):
        LOGIN_SUCCEEDED = "login.succeeded", "sign-in succeeded"
        LOGIN_FAILED = "login.failed", "sign-in failed"
        LOGOUT = "logout", "signed out"
        MFA_REQUIRED = "mfa.required", "password accepted, second factor asked"
        MFA_FAILED = "mfa.failed", "second factor failed"
        MFA_ENROLLED = "mfa.enrolled", "authenticator enrolled"
        MFA_RESET = "mfa.reset", "MFA reset by an admin"
        MFA_RECOVERY_USED = "mfa.recovery_used", "recovery code used"
        MFA_RECOVERY_REGENERATED = "mfa.recovery_regenerated", "recovery codes regenerated"
        LOCKOUT = "lockout", "locked out after repeated failures"
        LOCKOUT_REFUSED = "lockout.refused", "sign-in refused while locked out"
        UNLOCKED = "lockout.unlocked", "lockout lifted by an admin"
        SESSION_LOCKED = "session.locked", "session locked (idle)"
        SESSION_UNLOCKED = "session.unlocked", "session unlocked"
        SESSION_EXPIRED = "session.expired", "session expired (12-hour limit)"
        SESSION_REVOKED = "session.revoked", "session revoked"
        DEVICE_REVOKED = "device.revoked", "device revoked (sessions and push subscriptions)"
        PASSWORD_CHANGED = "password.changed", "password changed"
        APIKEY_USED = "apikey.used", "API key used"
        APIKEY_FAILED = "apikey.failed", "API key refused"
        APIKEY_CREATED = "apikey.created", "API key created"
        APIKEY_ROTATED = "apikey.rotated", "API key rotated"
        APIKEY_REVOKED = "apikey.revoked", "API key revoked"
        SIGNATURE_FAILED = "apikey.signature_failed", "request signature refused"
        PERMISSION_DENIED = "permission.denied", "permission denied"
        RATE_LIMITED = "rate_limited", "rate limit hit"
        INSIGHTS_EXPORT = "insights.export", "aggregate report exported (program insight)"

    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    kind = models.CharField(max_length=40, choices=Kind.choices, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="security_events"
    )
    # The name typed at a failed sign-in (may not be a real user); never a password.
    username = models.CharField(max_length=150, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=300, blank=True)
    # Small, non-sensitive context: method, api key prefix, session id, reason, count ...
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "-created_at"]), models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.username or self.user_id or ''}".strip()


class UserSession(models.Model):
    """One signed-in session (one sign-in on one browser / phone): the record behind "my sessions",
    the idle lock and the 12-hour limit (apps.security.sessions). The Django session row is what
    signs a request in; revoking deletes it and ends this row (``ended_at`` + ``end_reason``)."""

    class EndReason(models.TextChoices):
        SIGNED_OUT = "signed_out", "signed out"
        EXPIRED = "expired", "12-hour limit reached"
        REVOKED = "revoked", "revoked (sign out this device)"
        LOST_DEVICE = "lost_device", "revoked (lost phone)"
        UNLOCK_FAILED = "unlock_failed", "too many failed unlocks"
        REAUTHENTICATED = "reauthenticated", "replaced by a new sign-in"
        SESSION_GONE = "session_gone", "session no longer exists"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="user_sessions")
    # The Django session key: never shown (it is a bearer credential), used to delete the session.
    session_key = models.CharField(max_length=40, db_index=True, editable=False)
    device = models.ForeignKey(
        "realtime.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="user_sessions"
    )
    label = models.CharField(max_length=100, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # Sign-in time: the 12-hour limit counts from here.
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    locked_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="usersession_user_created"),
            models.Index(fields=["created_at"], name="usersession_active", condition=models.Q(ended_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"session {self.pk} of user {self.user_id}"


class Lockout(models.Model):
    """Failed sign-in attempts of one account (case-folded username) or one client address, and the
    lockout they lead to (apps.security.lockout). One row per key; attempts on it are serialised
    with a row lock, so parallel failures cannot slip past the threshold."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", "account"
        IP = "ip", "IP address"

    scope = models.CharField(max_length=10, choices=Scope.choices)
    # The case-folded username (may not be a real user: same answer for unknown names) or the address.
    key = models.CharField(max_length=150)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True, db_index=True)
    lockouts = models.PositiveIntegerField(default=0, help_text="How many times this key was locked out.")

    class Meta:
        ordering = ["-last_failure_at"]
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="lockout_scope_key_unique")]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.key}"

    def is_locked(self, at: dt.datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (at or timezone.now())
