"""Phone numbers: parse to E.164, verify by a texted code, opt out / in (STOP / START).

A new number does not replace the verified one until its code is confirmed, so a typo never cuts a
responder off from the texts they already get.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import status

from apps.accounts.models import User
from apps.core.errors import ApplicationError, Conflict, Invalid

from . import wording
from .models import PhoneNumber, PhoneVerification
from .provider import ProviderError, provider

log = logging.getLogger(__name__)


class NotConfigured(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


class TooMany(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS


class SendFailed(ApplicationError):
    status_code = status.HTTP_502_BAD_GATEWAY


def phone_parse(raw: str, *, field: str = "number") -> str:
    """``(919) 555-0100`` → ``+19195550100``; a clear 400 for anything that is not a valid number."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise Invalid("Enter a mobile number.", errors={field: ["Enter a phone number, e.g. +1 919 555 0100."]})
    try:
        parsed = phonenumbers.parse(text, settings.NOTIFICATIONS_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise Invalid("That is not a phone number.", errors={field: [f"Not a phone number ({exc._msg})."]}) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise Invalid("That is not a valid phone number.", errors={field: ["Not a valid number for its country."]})
    if phonenumbers.number_type(parsed) in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.SHARED_COST,
    ):
        raise Invalid("Use a mobile number.", errors={field: ["This number cannot receive texts; use a mobile."]})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _code_hash(user_id: int, code: str) -> str:
    key = f"phone-verification:{settings.SECRET_KEY}".encode()
    return hmac.new(key, f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _open_verification(user: User) -> PhoneVerification | None:
    return (
        PhoneVerification.objects.filter(user=user, confirmed_at__isnull=True, superseded_at__isnull=True)
        .order_by("-created_at")
        .first()
    )


def phone_verification_start(*, user: User, number: str) -> PhoneVerification:
    """Text a 6-digit code to ``number`` (any common notation); the number is used once confirmed."""
    e164 = phone_parse(number)
    sender = provider()
    if sender is None:
        raise NotConfigured(
            "Text messages are not set up on this server, so numbers cannot be verified yet.",
            errors={"number": ["Ask an administrator to configure the SMS provider."]},
        )
    current = PhoneNumber.objects.filter(user=user).first()
    if current is not None and current.number == e164 and current.is_verified:
        raise Conflict("This number is already verified.", current={"number": e164, "verified": True})
    if PhoneNumber.objects.filter(number=e164, verified_at__isnull=False).exclude(user=user).exists():
        raise Invalid(
            "This number is verified for someone else.",
            errors={"number": ["Each number belongs to one person (replies are matched by number)."]},
        )
    now = timezone.now()
    recent = PhoneVerification.objects.filter(user=user, created_at__gte=now - dt.timedelta(hours=1)).count()
    if recent >= settings.NOTIFICATIONS_VERIFY_MAX_PER_HOUR:
        raise TooMany("Too many codes sent in the last hour. Try again later.", retry_after=3600)
    code = f"{secrets.randbelow(1_000_000):06d}"
    ttl = settings.NOTIFICATIONS_VERIFY_CODE_TTL_SECONDS
    with transaction.atomic():
        PhoneVerification.objects.filter(user=user, confirmed_at__isnull=True, superseded_at__isnull=True).update(
            superseded_at=now
        )
        verification = PhoneVerification.objects.create(
            user=user,
            number=e164,
            code_hash=_code_hash(user.pk, code),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=ttl),
        )
    # After the commit: network I/O never runs inside a transaction.
    try:
        sent = sender.send_sms(
            to=e164, body=wording.verification_sms(code=code, minutes=max(1, ttl // 60)), status_callback=None
        )
    except ProviderError as exc:
        PhoneVerification.objects.filter(pk=verification.pk).update(superseded_at=timezone.now())
        if exc.opted_out:
            raise Invalid(
                "This number has opted out of our texts.",
                errors={"number": ["Text START to our number from this phone, then try again."]},
            ) from exc
        if exc.transient:
            raise SendFailed("The text could not be sent just now. Try again in a minute.") from exc
        raise Invalid("The provider refused this number.", errors={"number": [str(exc)[:200]]}) from exc
    PhoneVerification.objects.filter(pk=verification.pk).update(provider_sid=sent.sid[:64])
    verification.provider_sid = sent.sid[:64]
    return verification


def phone_verification_confirm(*, user: User, code: str) -> PhoneNumber:
    """The code texted to the new number: correct → it becomes the person's verified number."""
    code = (code or "").strip()
    verification = _open_verification(user)
    if verification is None:
        raise Conflict("No code is waiting to be confirmed. Ask for a new one.", current=phone_state(user))
    now = timezone.now()
    if verification.expires_at <= now:
        raise Conflict("The code has expired. Ask for a new one.", current=phone_state(user))
    # Count the try in its own commit first (a wrong code raises, and that must not roll it back),
    # conditionally: parallel guesses cannot get more tries than the limit between them.
    counted = PhoneVerification.objects.filter(
        pk=verification.pk, attempts__lt=settings.NOTIFICATIONS_VERIFY_MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not counted:
        raise Conflict("Too many wrong codes. Ask for a new one.", current=phone_state(user))
    if not (code.isdigit() and hmac.compare_digest(verification.code_hash, _code_hash(user.pk, code))):
        left = settings.NOTIFICATIONS_VERIFY_MAX_ATTEMPTS - verification.attempts - 1
        raise Invalid("That code is not right.", errors={"code": [f"Wrong code; {max(0, left)} tries left."]})
    try:
        with transaction.atomic():
            claimed = PhoneVerification.objects.filter(pk=verification.pk, confirmed_at__isnull=True).update(
                confirmed_at=now
            )
            if not claimed:
                raise Conflict("This code was already used.", current=phone_state(user))
            phone, _ = PhoneNumber.objects.update_or_create(
                user=user,
                defaults={"number": verification.number, "verified_at": now, "sms_opted_out_at": None},
            )
    except IntegrityError as exc:  # verified by someone else meanwhile (unique verified number)
        raise Conflict("This number was verified for someone else meanwhile.", current=phone_state(user)) from exc
    log.info("user %s verified phone %s", user.pk, phone.masked)
    return phone


def phone_number_remove(*, user: User) -> bool:
    """No more texts or calls to this person. Returns whether there was a number."""
    with transaction.atomic():
        PhoneVerification.objects.filter(user=user, confirmed_at__isnull=True, superseded_at__isnull=True).update(
            superseded_at=timezone.now()
        )
        deleted, _ = PhoneNumber.objects.filter(user=user).delete()
    return bool(deleted)


def phone_number_set_unverified(*, user: User, number: str) -> PhoneNumber:
    """An administrator records a number for someone: stored unverified (no texts until the person
    confirms a code they ask for in the app)."""
    e164 = phone_parse(number)
    with transaction.atomic():
        phone, _ = PhoneNumber.objects.update_or_create(
            user=user, defaults={"number": e164, "verified_at": None, "sms_opted_out_at": None}
        )
    return phone


def phone_opt_out(*, number: str, at: dt.datetime | None = None) -> int:
    """STOP from ``number``: no more texts to whoever has it (calls are not affected)."""
    return PhoneNumber.objects.filter(number=number, sms_opted_out_at__isnull=True).update(
        sms_opted_out_at=at or timezone.now()
    )


def phone_opt_in(*, number: str) -> int:
    """START from ``number``: texts resume."""
    return PhoneNumber.objects.filter(number=number, sms_opted_out_at__isnull=False).update(sms_opted_out_at=None)


def phone_state(user: User) -> dict[str, object]:
    """What the app's phone card shows (the caller's own number only)."""
    phone = PhoneNumber.objects.filter(user=user).first()
    pending = _open_verification(user)
    now = timezone.now()
    if pending is not None and pending.expires_at <= now:
        pending = None
    return {
        "number": phone.number if phone else None,
        "verified": bool(phone and phone.is_verified),
        "verified_at": phone.verified_at.isoformat() if phone and phone.verified_at else None,
        "sms_opted_out": bool(phone and phone.sms_opted_out_at),
        "pending_number": pending.number if pending else None,
        "pending_expires_at": pending.expires_at.isoformat() if pending else None,
        "sms_configured": provider() is not None,
    }
