"""Second factor (django-otp): one TOTP authenticator per user plus ten single-use recovery codes.

Sign-in is two steps. The password step leaves only a short-lived *pending* marker in the session
(``pending_set``); ``django.contrib.auth.login`` and ``django_otp.login`` happen when the code is
verified (apps.accounts.apis). Every code check runs inside ``lockout.attempt`` so wrong codes
count toward the account lockout just like wrong passwords.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from base64 import b32encode
from dataclasses import dataclass
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.request import Request

from .audit import Kind, record

PENDING_SESSION_KEY = "security_mfa_pending"
RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator"
RECOVERY_DEVICE_NAME = "Recovery codes"
# Unambiguous lower-case letters and digits (no 0/o, 1/l/i): read off paper and typed on a phone.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10
_TOTP_RE = re.compile(r"^\d{6}$")


def _session(request: HttpRequest | Request) -> Any:
    return request.session


# --- the pending marker ------------------------------------------------------------------------------


def pending_set(request: HttpRequest | Request, *, user: AbstractBaseUser, backend: str) -> None:
    """Password verified for ``user``: remember it (not a sign-in) for SECURITY_MFA_PENDING_SECONDS."""
    session = _session(request)
    # A new session key for the half-authenticated state (session fixation), keeping the data.
    session.cycle_key()
    session[PENDING_SESSION_KEY] = {
        "user_id": user.pk,
        "backend": backend,
        "at": timezone.now().timestamp(),
    }


def pending_user(request: HttpRequest | Request) -> Any | None:
    """The user whose password was verified less than SECURITY_MFA_PENDING_SECONDS ago, else None
    (an expired marker is removed)."""
    from apps.accounts.models import User

    session = _session(request)
    marker = session.get(PENDING_SESSION_KEY)
    if not isinstance(marker, dict):
        return None
    age = timezone.now().timestamp() - float(marker.get("at", 0))
    if age < 0 or age > settings.SECURITY_MFA_PENDING_SECONDS:
        pending_clear(request)
        return None
    user_id = marker.get("user_id")
    user = User.objects.filter(pk=int(user_id), is_active=True).first() if isinstance(user_id, int) else None
    if user is None:
        pending_clear(request)
    return user


def pending_backend(request: HttpRequest | Request) -> str:
    marker = _session(request).get(PENDING_SESSION_KEY) or {}
    return str(marker.get("backend") or settings.AUTHENTICATION_BACKENDS[0])


def pending_clear(request: HttpRequest | Request) -> None:
    _session(request).pop(PENDING_SESSION_KEY, None)


# --- devices -------------------------------------------------------------------------------------------


def totp_device(user: Any, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-id").first()


def has_confirmed_device(user: Any) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


@dataclass(frozen=True)
class Enrollment:
    secret: str
    otpauth_uri: str
    qr_svg: str


def enrollment_start(*, user: Any) -> Enrollment:
    """Create (replacing any earlier unconfirmed one) an unconfirmed authenticator for ``user``.
    A confirmed authenticator keeps working until the new one is confirmed."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    uri = str(device.config_url)
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return Enrollment(secret=b32encode(device.bin_key).decode(), otpauth_uri=uri, qr_svg=str(svg))


def _new_recovery_code() -> str:
    return "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))


def format_recovery_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def recovery_codes_generate(*, user: Any) -> list[str]:
    """Replace the user's recovery codes with ten new single-use ones; returned once, for display."""
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return [format_recovery_code(code) for code in codes]


def recovery_codes_left(user: Any) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def normalize_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


@dataclass(frozen=True)
class Verified:
    device: Device
    recovery: bool


def verify_code(*, user: Any, code: str) -> Verified | None:
    """Check a 6-digit TOTP code against the confirmed authenticator (±1 step; a code already
    accepted is refused: django-otp's ``last_t``) or a recovery code (deleted when used)."""
    cleaned = normalize_code(code)
    if _TOTP_RE.match(cleaned):
        device = totp_device(user)
        if device is None:
            return None
        accepted = verify_token(user, device.persistent_id, cleaned)
        return Verified(accepted, recovery=False) if accepted is not None else None
    if len(cleaned) != _RECOVERY_LENGTH:
        return None
    for static in StaticDevice.objects.filter(user=user, confirmed=True):
        accepted = verify_token(user, static.persistent_id, cleaned)
        if accepted is not None:
            return Verified(accepted, recovery=True)
    return None


def enrollment_confirm(*, user: Any, code: str) -> TOTPDevice | None:
    """Confirm the unconfirmed authenticator with a code from it; the old one (if any) is removed.
    None when there is no enrolment under way or the code is wrong."""
    device = totp_device(user, confirmed=False)
    if device is None or not _TOTP_RE.match(normalize_code(code)):
        return None
    with transaction.atomic():
        accepted = verify_token(user, device.persistent_id, normalize_code(code))
        if accepted is None:
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        # created_at becomes the confirmation time: "enrolled since" for the user and the admin.
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True, created_at=timezone.now())
    device.refresh_from_db()
    return device


def mfa_reset(*, user: Any, by: Any, request: HttpRequest | None = None) -> int:
    """An admin removes a user's authenticator and recovery codes: they enrol again at their next
    sign-in. Audited. Returns the number of devices removed."""
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        static_removed = StaticDevice.objects.filter(user=user).count()
        StaticToken.objects.filter(device__user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
    record(Kind.MFA_RESET, request=request, user=user, by=getattr(by, "username", ""))
    return int(removed) + int(static_removed)


@dataclass(frozen=True)
class Status:
    enrolled: bool
    confirmed_at: dt.datetime | None
    recovery_codes_left: int


def mfa_status(user: Any) -> Status:
    device = totp_device(user)
    return Status(
        enrolled=device is not None,
        confirmed_at=device.created_at if device is not None else None,
        recovery_codes_left=recovery_codes_left(user),
    )
