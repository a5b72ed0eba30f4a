"""Lockout after repeated failed sign-in attempts, per account and per client address.

Every attempt that checks a secret (password at sign-in or unlock, MFA code, admin login) runs inside
``attempt()``. It refuses at once while the account or the address is locked out, and otherwise holds
the account's row lock until the attempt is judged, so parallel wrong guesses are counted one after
the other: the attempt after the N-th failure is refused, never evaluated. The per-IP counter is only
locked for the moment of counting (a 911 centre signs everyone in through one NAT address; its
sign-ins must not queue behind each other), so it may let a few in-flight attempts past its higher
threshold.

Usernames are case-folded, and unknown usernames are counted and locked exactly like real ones, so
the answers never reveal whether an account exists.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from .audit import Kind, record
from .ip import client_ip
from .models import Lockout

# The attribute of the Django request on which a refused attempt leaves its LockedOut (the login
# view reads it to answer 403 locked_out; authenticate() itself only sees PermissionDenied).
REQUEST_ATTR = "security_locked_out"


class LockedOut(Exception):
    def __init__(self, *, scope: str, until: dt.datetime) -> None:
        super().__init__(f"locked out ({scope}) until {until.isoformat()}")
        self.scope = scope
        self.until = until

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))


def account_key(username: str) -> str:
    return username.strip().casefold()[:150]


def _django_request(request: HttpRequest | Request | None) -> HttpRequest | None:
    if isinstance(request, Request):
        return request._request
    return request


def _row(scope: str, key: str) -> Lockout:
    try:
        row, _ = Lockout.objects.get_or_create(scope=scope, key=key)
    except IntegrityError:  # created by a parallel attempt between the get and the create
        row = Lockout.objects.get(scope=scope, key=key)
    return row


@dataclass
class Attempt:
    username: str
    ip: str | None
    request: HttpRequest | None
    failed_reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def failed(self, reason: str, **details: Any) -> None:
        """Count this attempt as a failure (done when the ``attempt()`` block ends)."""
        self.failed_reason = reason
        self.details = details


def _count_failure(row: Lockout, *, threshold: int, now: dt.datetime) -> bool:
    """Add one failure to a row held under ``select_for_update``; True when it locks the key now."""
    window = dt.timedelta(seconds=settings.SECURITY_LOCKOUT_WINDOW_SECONDS)
    if row.window_started_at is None or row.window_started_at <= now - window or row.failures == 0:
        row.failures = 0
        row.window_started_at = now
    row.failures += 1
    row.last_failure_at = now
    locks = row.failures >= threshold
    if locks:
        row.locked_until = now + dt.timedelta(seconds=settings.SECURITY_LOCKOUT_SECONDS)
        row.lockouts += 1
        row.failures = 0
        row.window_started_at = None
    row.save(update_fields=["failures", "window_started_at", "last_failure_at", "locked_until", "lockouts"])
    return locks


def _refused(request: HttpRequest | None, username: str, exc: LockedOut) -> LockedOut:
    if request is not None:
        setattr(request, REQUEST_ATTR, exc)
    record(Kind.LOCKOUT_REFUSED, request=request, username=username, scope=exc.scope, retry_after=exc.retry_after)
    return exc


@contextmanager
def attempt(*, request: HttpRequest | Request | None, username: str) -> Iterator[Attempt]:
    """Guard one check of a secret for ``username``. Raises ``LockedOut`` before the check while
    locked; the body calls ``attempt.failed(reason)`` when the secret was wrong."""
    django_request = _django_request(request)
    ip = client_ip(django_request) if django_request is not None else None
    akey = account_key(username)
    now = timezone.now()
    if ip:
        ip_row = Lockout.objects.filter(scope=Lockout.Scope.IP, key=ip).first()
        if ip_row is not None and ip_row.locked_until is not None and ip_row.locked_until > now:
            raise _refused(django_request, username, LockedOut(scope=Lockout.Scope.IP, until=ip_row.locked_until))
    account_pk = _row(Lockout.Scope.ACCOUNT, akey).pk
    current = Attempt(username=username, ip=ip, request=django_request)
    refusal: LockedOut | None = None
    lock_events: list[tuple[str, str]] = []
    with transaction.atomic():
        # Held until the attempt is judged: parallel attempts on one account queue here.
        account = Lockout.objects.select_for_update().get(pk=account_pk)
        if account.locked_until is not None and account.locked_until > timezone.now():
            refusal = LockedOut(scope=Lockout.Scope.ACCOUNT, until=account.locked_until)
        else:
            yield current
            if current.failed_reason:
                now = timezone.now()
                if _count_failure(account, threshold=settings.SECURITY_LOCKOUT_ACCOUNT_FAILURES, now=now):
                    lock_events.append((Lockout.Scope.ACCOUNT, akey))
                if ip:
                    ip_pk = _row(Lockout.Scope.IP, ip).pk
                    ip_row = Lockout.objects.select_for_update().get(pk=ip_pk)
                    if _count_failure(ip_row, threshold=settings.SECURITY_LOCKOUT_IP_FAILURES, now=now):
                        lock_events.append((Lockout.Scope.IP, ip))
    if refusal is not None:
        raise _refused(django_request, username, refusal)
    if current.failed_reason:
        record(
            Kind.MFA_FAILED if current.failed_reason == "mfa" else Kind.LOGIN_FAILED,
            request=django_request,
            user=None,
            username=username,
            reason=current.failed_reason,
            **current.details,
        )
    for scope, key in lock_events:
        record(
            Kind.LOCKOUT,
            request=django_request,
            username=username,
            scope=scope,
            key=key,
            seconds=settings.SECURITY_LOCKOUT_SECONDS,
        )


def clear_account(username: str) -> None:
    """A successful sign-in forgets the account's earlier failures (not the address's)."""
    Lockout.objects.filter(scope=Lockout.Scope.ACCOUNT, key=account_key(username)).update(
        failures=0, window_started_at=None
    )


def lockout_lift(*, lockout: Lockout, by: Any, request: HttpRequest | None = None) -> bool:
    """An admin lifts a lockout (and forgets the failures). Audited; False if it was not locked."""
    updated = Lockout.objects.filter(pk=lockout.pk, locked_until__gt=timezone.now()).update(
        locked_until=None, failures=0, window_started_at=None
    )
    Lockout.objects.filter(pk=lockout.pk).update(failures=0, window_started_at=None)
    if updated:
        record(
            Kind.UNLOCKED,
            request=request,
            user=by,
            username=lockout.key if lockout.scope == Lockout.Scope.ACCOUNT else "",
            scope=lockout.scope,
            key=lockout.key,
        )
    return bool(updated)


def lockout_purge() -> int:
    """Forget counters with no lockout and no failure within the window (a spray of made-up
    usernames would otherwise leave a row each, forever). The audit keeps the history."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=max(settings.SECURITY_LOCKOUT_WINDOW_SECONDS, settings.SECURITY_LOCKOUT_SECONDS))
    deleted, _ = Lockout.objects.filter(last_failure_at__lt=stale).exclude(locked_until__gt=now).delete()
    return int(deleted)
