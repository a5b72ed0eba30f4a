"""Session rules (issue 8 item 2; DOMAIN.md §6): a record per sign-in, the 30-minute idle lock, the
12-hour limit, "sign out this device" and the supervisor's lost-phone revoke.

How it fits together:
- ``login()`` (also the test client's ``force_login``) fires ``user_logged_in``: we create a
  :class:`UserSession` row and keep its id in the Django session (``SESSION_ID_KEY``). The row holds
  the sign-in time, the last activity, the lock and the end; a signed-in Django session without a
  live row is not accepted (middleware.py signs it out).
- The lock and the activity live in the row, not in the Django session's data: the PWA sends
  requests in parallel, and a session save of one request would overwrite a lock written by another.
  Row updates are conditional (``WHERE locked_at IS NULL AND ended_at IS NULL``), so a late activity
  write can never unlock a session.
- Revoking deletes the Django session (that is what signs requests in) and ends the row, in one
  transaction; after commit the sockets of the session / device are told to close (a hint: the
  socket sweeper re-checks every ``EVENTS_CATCHUP_SECONDS`` and closes them anyway).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.realtime.guard import sockets_close
from apps.realtime.services import device_owner, device_register, devices_revoke

from .audit import Kind, record
from .ip import client_ip
from .models import UserSession

log = logging.getLogger(__name__)

SESSION_ID_KEY = "_security_session_id"
UNLOCK_FAILURES_KEY = "_security_unlock_failures"
DEVICE_HEADER = "HTTP_X_DEVICE_ID"
BACKGROUND_HEADER = "HTTP_X_BACKGROUND"


class State(enum.StrEnum):
    ACTIVE = "active"
    LOCKED = "locked"
    EXPIRED = "expired"
    ENDED = "ended"


def idle_seconds() -> int:
    return int(settings.SECURITY_IDLE_LOCK_SECONDS)


def max_seconds() -> int:
    return int(settings.SECURITY_SESSION_MAX_SECONDS)


def locks_at(row: UserSession) -> dt.datetime:
    return row.last_activity_at + dt.timedelta(seconds=idle_seconds())


def expires_at(row: UserSession) -> dt.datetime:
    return row.created_at + dt.timedelta(seconds=max_seconds())


def state_of(row: UserSession | None, now: dt.datetime | None = None) -> State:
    """The one rule: ended (or unknown) > expired (12 h since sign-in) > locked (explicit, or idle
    30 min) > active."""
    if row is None or row.ended_at is not None:
        return State.ENDED
    now = now or timezone.now()
    if now >= expires_at(row):
        return State.EXPIRED
    if row.locked_at is not None or now >= locks_at(row):
        return State.LOCKED
    return State.ACTIVE


def session_group(session_id: int) -> str:
    return f"security.session.{session_id}"


def device_group(device_id: uuid.UUID) -> str:
    return f"security.device.{device_id.hex}"


def label_from_user_agent(agent: str) -> str:
    """A short human label ("Chrome on Android") from a user agent; the PWA may not send better."""
    a = agent.lower()
    browser = next(
        (
            name
            for key, name in [
                ("edg/", "Edge"),
                ("firefox/", "Firefox"),
                ("crios/", "Chrome"),
                ("chrome/", "Chrome"),
                ("chromium/", "Chromium"),
                ("safari/", "Safari"),
            ]
            if key in a
        ),
        "",
    )
    system = next(
        (
            name
            for key, name in [
                ("android", "Android"),
                ("iphone", "iPhone"),
                ("ipad", "iPad"),
                ("windows", "Windows"),
                ("mac os", "macOS"),
                ("cros", "ChromeOS"),
                ("linux", "Linux"),
            ]
            if key in a
        ),
        "",
    )
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (agent[:60] if agent else "Unknown device")


def parse_device_id(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


# --- sockets ----------------------------------------------------------------------------------------


def _notify(groups: Iterable[str], *, locked: bool = False) -> None:
    """Close the sockets in ``groups`` (realtime's public close; a hint: the sweeper is the net)."""
    sockets_close(groups, locked=locked)


def _groups_of(rows: Iterable[UserSession]) -> list[str]:
    groups = []
    for row in rows:
        groups.append(session_group(row.pk))
    return groups


# --- sign-in / sign-out -----------------------------------------------------------------------------


@receiver(user_logged_in, dispatch_uid="security.sessions.on_login")
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    session_start(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="security.sessions.on_logout")
def _on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    sid = request.session.get(SESSION_ID_KEY)
    if sid:
        session_end(session_id=int(sid), reason=UserSession.EndReason.SIGNED_OUT)


def session_start(*, request: HttpRequest, user: Any) -> UserSession:
    """A sign-in: a fresh row (a previous sign-in on the same browser ends as "reauthenticated")."""
    session = request.session
    previous = session.get(SESSION_ID_KEY)
    if previous:
        session_end(session_id=int(previous), reason=UserSession.EndReason.REAUTHENTICATED, delete_session=False)
    if session.session_key is None:
        session.save()
    agent = str(request.META.get("HTTP_USER_AGENT", ""))[:300]
    now = timezone.now()
    row = UserSession.objects.create(
        user=user,
        session_key=str(session.session_key),
        label=label_from_user_agent(agent)[:100],
        user_agent=agent,
        ip=client_ip(request),
        created_at=now,
        last_activity_at=now,
    )
    session[SESSION_ID_KEY] = row.pk
    session.pop(UNLOCK_FAILURES_KEY, None)
    device_id = parse_device_id(request.META.get(DEVICE_HEADER))
    if device_id is not None:
        session_attach_device(row=row, device_id=device_id)
    return row


def session_attach_device(*, row: UserSession, device_id: uuid.UUID) -> bool:
    """Link the session to the PWA's device id (``X-Device-Id``, or the socket's hello). A device of
    another user or a revoked one is not linked (the socket refuses those itself)."""
    try:
        device = device_register(user=row.user_id, device_id=device_id, user_agent=row.user_agent)
    except ApplicationError:
        return False
    updated = UserSession.objects.filter(pk=row.pk, device__isnull=True).update(device=device)
    if updated:
        row.device_id = device.pk
    return bool(updated)


def session_describe(*, row: UserSession, request: HttpRequest) -> None:
    """Fill the user agent, label and address from a request when the sign-in had none (a sign-in
    made outside a browser request, such as the test client's ``force_login``)."""
    changes: dict[str, Any] = {}
    agent = str(request.META.get("HTTP_USER_AGENT", ""))[:300]
    if not row.user_agent and agent:
        changes.update(user_agent=agent, label=label_from_user_agent(agent)[:100])
    if row.ip is None and (ip := client_ip(request)):
        changes["ip"] = ip
    if changes:
        UserSession.objects.filter(pk=row.pk).update(**changes)
        for name, value in changes.items():
            setattr(row, name, value)


def _delete_django_sessions(keys: Iterable[str]) -> None:
    keys = [k for k in keys if k]
    if not keys:
        return
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        from django.contrib.sessions.models import Session

        Session.objects.filter(session_key__in=keys).delete()
        return
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(key).delete()


def session_end(
    *, session_id: int, reason: str, delete_session: bool = True, notify: bool = True
) -> UserSession | None:
    """End one session (idempotent). Deletes the Django session unless the caller is about to flush
    or replace it itself."""
    with transaction.atomic():
        row = UserSession.objects.select_for_update().filter(pk=session_id, ended_at__isnull=True).first()
        if row is None:
            return None
        row.ended_at = timezone.now()
        row.end_reason = reason
        row.save(update_fields=["ended_at", "end_reason"])
        if delete_session:
            _delete_django_sessions([row.session_key])
        if notify:
            transaction.on_commit(lambda: _notify([session_group(row.pk)]))
    return row


# --- lock / unlock / activity -------------------------------------------------------------------------


def session_lock(*, row: UserSession, request: HttpRequest | None = None, reason: str) -> bool:
    """Lock (explicitly, or found idle). Audited once; the session's sockets close with 4423."""
    now = timezone.now()
    with transaction.atomic():
        updated = UserSession.objects.filter(pk=row.pk, locked_at__isnull=True, ended_at__isnull=True).update(
            locked_at=now
        )
        if not updated:
            return False
        row.locked_at = now
        record(
            Kind.SESSION_LOCKED,
            request=request,
            user=row.user,
            session=row.pk,
            reason=reason,
            last_activity_at=row.last_activity_at.isoformat(),
        )
        transaction.on_commit(lambda: _notify([session_group(row.pk)], locked=True))
    return True


def session_unlock(*, row: UserSession, request: HttpRequest) -> None:
    now = timezone.now()
    with transaction.atomic():
        UserSession.objects.filter(pk=row.pk, ended_at__isnull=True).update(locked_at=None, last_activity_at=now)
        record(Kind.SESSION_UNLOCKED, request=request, user=row.user, session=row.pk)
    row.locked_at = None
    row.last_activity_at = now
    request.session.pop(UNLOCK_FAILURES_KEY, None)


def session_touch(*, row: UserSession, now: dt.datetime) -> None:
    """Record activity, at most every ``SECURITY_ACTIVITY_WRITE_SECONDS`` (so the idle lock may come
    up to that much early, never late). Never unlocks: conditional on not locked."""
    if (now - row.last_activity_at).total_seconds() < float(settings.SECURITY_ACTIVITY_WRITE_SECONDS):
        return
    UserSession.objects.filter(pk=row.pk, locked_at__isnull=True, ended_at__isnull=True).update(last_activity_at=now)
    row.last_activity_at = now


@transaction.atomic
def session_expire(*, row: UserSession, request: HttpRequest | None = None) -> None:
    if session_end(session_id=row.pk, reason=UserSession.EndReason.EXPIRED) is not None:
        record(
            Kind.SESSION_EXPIRED,
            request=request,
            user=row.user,
            session=row.pk,
            signed_in_at=row.created_at.isoformat(),
        )


def current_row(request: HttpRequest) -> UserSession | None:
    """The row of the request's session (set by the middleware; loaded here otherwise)."""
    cached = getattr(request, "security_session", None)
    if isinstance(cached, UserSession):
        return cached
    user = getattr(request, "user", None)
    sid = request.session.get(SESSION_ID_KEY) if hasattr(request, "session") else None
    if not sid or user is None or not user.is_authenticated:
        return None
    return UserSession.objects.select_related("user").filter(pk=sid, user_id=user.pk).first()


# --- my sessions --------------------------------------------------------------------------------------


def sessions_active_for_user(*, user_id: int) -> list[UserSession]:
    """Sessions not ended and within the 12-hour limit, whose Django session still exists."""
    cutoff = timezone.now() - dt.timedelta(seconds=max_seconds())
    rows = list(
        UserSession.objects.filter(user_id=user_id, ended_at__isnull=True, created_at__gt=cutoff).order_by(
            "-last_activity_at"
        )
    )
    live = _existing_session_keys([r.session_key for r in rows])
    return [r for r in rows if r.session_key in live]


def _existing_session_keys(keys: list[str]) -> set[str]:
    if not keys:
        return set()
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        from django.contrib.sessions.models import Session

        return set(
            Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now()).values_list(
                "session_key", flat=True
            )
        )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return {k for k in keys if store().exists(k)}


# --- revocation ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevokeResult:
    sessions_revoked: int
    push_subscriptions_removed: int
    devices_revoked: int

    def as_dict(self) -> dict[str, int]:
        return {
            "sessions_revoked": self.sessions_revoked,
            "push_subscriptions_removed": self.push_subscriptions_removed,
            "devices_revoked": self.devices_revoked,
        }


def _revoke_rows(rows: list[UserSession], reason: str) -> int:
    if not rows:
        return 0
    now = timezone.now()
    UserSession.objects.filter(pk__in=[r.pk for r in rows], ended_at__isnull=True).update(
        ended_at=now, end_reason=reason
    )
    _delete_django_sessions([r.session_key for r in rows])
    return len(rows)


@transaction.atomic
def session_revoke(*, session_id: int, by: Any, request: HttpRequest | None = None) -> UserSession | None:
    """ "Sign out this device": one of the user's own sessions (the caller checked ownership)."""
    row = session_end(session_id=session_id, reason=UserSession.EndReason.REVOKED)
    if row is not None:
        record(Kind.SESSION_REVOKED, request=request, user=by, target_user=row.user_id, session=row.pk, count=1)
    return row


def _lost_phone(
    rows: list[UserSession], *, user_id: int, device_id: uuid.UUID | None, by: Any, request: HttpRequest | None
) -> RevokeResult:
    """Inside the revoking transaction: end the sessions, revoke the devices and delete their push
    subscriptions (realtime's public service), audit it; the sockets close after commit."""
    sessions = _revoke_rows(rows, UserSession.EndReason.LOST_DEVICE)
    devices, pushes = devices_revoke(user_id=user_id, device_id=device_id)
    groups = _groups_of(rows) + [device_group(d) for d in devices]
    if device_id is not None:
        groups.append(device_group(device_id))
    transaction.on_commit(lambda: _notify(groups))
    result = RevokeResult(sessions, pushes, len(devices))
    scope: dict[str, Any] = {"scope": "user"} if device_id is None else {"device": str(device_id), "scope": "device"}
    counts: dict[str, Any] = result.as_dict()
    record(Kind.DEVICE_REVOKED, request=request, user=by, target_user=user_id, **scope, **counts)
    if sessions:
        record(
            Kind.SESSION_REVOKED, request=request, user=by, target_user=user_id, count=sessions, reason="lost_device"
        )
    return result


@transaction.atomic
def user_revoke_devices(*, user_id: int, by: Any, request: HttpRequest | None = None) -> RevokeResult:
    """Lost phone, user level: every session of the user ends, every push subscription is deleted,
    every device is revoked, audited; one transaction. The sockets close after commit."""
    rows = list(UserSession.objects.select_for_update().filter(user_id=user_id, ended_at__isnull=True))
    return _lost_phone(rows, user_id=user_id, device_id=None, by=by, request=request)


@transaction.atomic
def device_revoke(*, device_id: uuid.UUID, by: Any, request: HttpRequest | None = None) -> RevokeResult:
    """Lost phone, one device: its sessions end, its push subscription is deleted, the device is
    revoked (its hello is refused from now on), audited; one transaction."""
    owner = device_owner(device_id)
    if owner is None:
        return RevokeResult(0, 0, 0)
    rows = list(UserSession.objects.select_for_update().filter(device_id=device_id, ended_at__isnull=True))
    return _lost_phone(rows, user_id=owner, device_id=device_id, by=by, request=request)


def session_link_device(*, session_id: int, device_id: uuid.UUID) -> None:
    """The socket's hello named a registered device: link the session to it (if not linked yet)."""
    UserSession.objects.filter(pk=session_id, device__isnull=True).update(device_id=device_id)


def session_rekey(*, row: UserSession, session_key: str) -> None:
    """The Django session's key was cycled (password change): keep the record on the live session."""
    UserSession.objects.filter(pk=row.pk).update(session_key=session_key)
    row.session_key = session_key


def sessions_end_others(*, user_id: int, keep: UserSession | None, reason: str) -> int:
    """End every session of the user but ``keep`` (after a password change); their sockets close."""
    others = UserSession.objects.filter(user_id=user_id, ended_at__isnull=True)
    if keep is not None:
        others = others.exclude(pk=keep.pk)
    return sum(
        session_end(session_id=pk, reason=reason) is not None for pk in list(others.values_list("pk", flat=True))
    )


@transaction.atomic
def session_end_unlock_failed(*, row: UserSession, request: HttpRequest) -> None:
    """Too many wrong passwords on the lock screen: the session ends, audited."""
    session_end(session_id=row.pk, reason=UserSession.EndReason.UNLOCK_FAILED)
    record(Kind.SESSION_REVOKED, request=request, user=row.user, session=row.pk, reason="unlock_failed")


# --- housekeeping (beat) ---------------------------------------------------------------------------------


def sessions_sweep(*, now: dt.datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Keep the record true for sessions nobody uses any more: past the 12-hour limit → ended
    (``expired``, audited, Django session deleted); Django session gone (signed in as someone else,
    cleared) → ended (``session_gone``); idle past the lock → locked (audited). Safe to run twice."""
    now = now or timezone.now()
    expired = 0
    cutoff = now - dt.timedelta(seconds=max_seconds())
    for row in UserSession.objects.select_related("user").filter(ended_at__isnull=True, created_at__lte=cutoff)[:batch]:
        session_expire(row=row)
        expired += 1
    live = list(UserSession.objects.filter(ended_at__isnull=True).values_list("pk", "session_key")[: batch * 10])
    existing = _existing_session_keys([k for _, k in live])
    gone_ids = [pk for pk, key in live if key not in existing]
    gone = UserSession.objects.filter(pk__in=gone_ids, ended_at__isnull=True).update(
        ended_at=now, end_reason=UserSession.EndReason.SESSION_GONE
    )
    if gone_ids:
        _notify([session_group(pk) for pk in gone_ids])
    idle_cutoff = now - dt.timedelta(seconds=idle_seconds())
    locked = 0
    for row in UserSession.objects.select_related("user").filter(
        ended_at__isnull=True, locked_at__isnull=True, last_activity_at__lte=idle_cutoff
    )[:batch]:
        locked += int(session_lock(row=row, reason="idle"))
    return {"expired": expired, "gone": gone, "locked": locked}
