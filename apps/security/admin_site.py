"""The admin site requires the second factor: its login form asks username, password and a
6-digit code (or a recovery code), and ``has_permission`` requires an OTP-verified session.

Installed as Django's default admin site (``MfaAdminConfig.default_site``), so every app's
``admin.site.register`` lands here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.sites import AdminSite
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from . import lockout, mfa
from .audit import Kind, record


class MfaAdminAuthenticationForm(AdminAuthenticationForm):
    otp_token = forms.CharField(
        label="Code from your authenticator app",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="6 digits, or one of your recovery codes.",
    )

    def clean(self) -> dict[str, Any]:
        request = self.request
        try:
            cleaned = super().clean()
        except ValidationError:
            locked = getattr(request, lockout.REQUEST_ATTR, None) if request is not None else None
            if isinstance(locked, lockout.LockedOut):
                minutes = max(1, round(locked.retry_after / 60))
                raise ValidationError(
                    f"Too many failed attempts. Try again in about {minutes} minute(s), or ask an administrator "
                    "to lift the lockout.",
                    code="locked_out",
                ) from None
            raise
        user = self.get_user()
        if not mfa.has_confirmed_device(user):
            raise ValidationError(
                "You have no authenticator yet. Sign in to the app first (it sets up your authenticator), "
                "then come back to the admin.",
                code="mfa_not_enrolled",
            )
        code = str(cleaned.get("otp_token") or "")
        verified: mfa.Verified | None = None
        try:
            with lockout.attempt(request=request, username=user.get_username()) as attempt:
                verified = mfa.verify_code(user=user, code=code) if code else None
                if verified is None:
                    attempt.failed("mfa", via="admin")
        except lockout.LockedOut as exc:
            minutes = max(1, round(exc.retry_after / 60))
            raise ValidationError(
                f"Too many failed attempts. Try again in about {minutes} minute(s), or ask an administrator "
                "to lift the lockout.",
                code="locked_out",
            ) from None
        if verified is None:
            raise ValidationError({"otp_token": "Wrong or expired code."} if code else {"otp_token": "Enter the code."})
        # django_otp's user_logged_in handler stores this device in the session at login().
        user.otp_device = verified.device  # type: ignore[attr-defined]
        if verified.recovery:
            record(Kind.MFA_RECOVERY_USED, request=request, user=user, via="admin")
        lockout.clear_account(user.get_username())
        record(Kind.LOGIN_SUCCEEDED, request=request, user=user, via="admin")
        return cleaned


class MfaAdminSite(AdminSite):
    login_form = MfaAdminAuthenticationForm
    login_template = "security/admin_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        is_verified = getattr(request.user, "is_verified", None)
        return super().has_permission(request) and callable(is_verified) and bool(is_verified())
