"""Session rules on every HTTP request of a signed-in session (sessions.py has the rules).

- 12 h after sign-in (``SECURITY_SESSION_MAX_SECONDS``): the session ends (audited). API → 401
  ``session_expired``; pages → as signed out (the admin shows its login).
- Idle 30 min (``SECURITY_IDLE_LOCK_SECONDS``) or locked explicitly: API → 401 ``session_locked``,
  except the endpoints in ``LOCKED_ALLOWED_URL_NAMES`` (the PWA's lock screen needs them); pages →
  as signed out.
- Ended / revoked row, or a signed-in session without a row: signed out (then 401/403 as for anyone
  not signed in).
- Otherwise the request is activity, unless it carries ``X-Background: 1`` (the PWA's automatic
  requests: outbox replay, refreshes, push re-registration) or is the session status itself.

API-key requests have no signed-in Django session and are not touched.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone

from . import sessions
from .models import UserSession
from .sessions import BACKGROUND_HEADER, DEVICE_HEADER, SESSION_ID_KEY, State

# The only API endpoints a locked session may call: its status, unlock, sign out, the CSRF cookie.
LOCKED_ALLOWED_URL_NAMES = ("auth-session", "auth-unlock", "auth-logout", "auth-csrf")
# Requests that never count as activity (besides X-Background: 1).
NOT_ACTIVITY_URL_NAMES = ("auth-session",)

API_PREFIX = "/api/"


@cache
def _paths(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(reverse(name) for name in names)


def locked_allowed_paths() -> frozenset[str]:
    return _paths(LOCKED_ALLOWED_URL_NAMES)


def _refusal(code: str, message: str) -> JsonResponse:
    return JsonResponse({"message": message, "errors": {}, "code": code}, status=401)


def is_background(request: HttpRequest) -> bool:
    return str(request.META.get(BACKGROUND_HEADER, "")).strip() == "1"


class SessionRulesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not hasattr(request, "session"):
            return self.get_response(request)
        is_api = request.path.startswith(API_PREFIX)
        sid = request.session.get(SESSION_ID_KEY)
        row = (
            UserSession.objects.select_related("user").filter(pk=sid, user_id=user.pk).first()
            if isinstance(sid, int)
            else None
        )
        now = timezone.now()
        state = sessions.state_of(row, now)

        if state is State.EXPIRED:
            assert row is not None  # noqa: S101 - state_of returns ENDED for None
            sessions.session_expire(row=row, request=request)
            request.session.flush()
            request.user = AnonymousUser()
            if is_api:
                return _refusal("session_expired", "Your session has ended (12-hour limit). Sign in again.")
            return self.get_response(request)

        if state is State.ENDED:
            request.session.flush()
            request.user = AnonymousUser()
            return self.get_response(request)

        assert row is not None  # noqa: S101
        request.security_session = row  # type: ignore[attr-defined]
        if row.session_key != request.session.session_key and request.session.session_key:
            # The key was cycled (password change): keep the record pointing at the live session.
            sessions.session_rekey(row=row, session_key=request.session.session_key)

        if state is State.LOCKED:
            if row.locked_at is None:
                sessions.session_lock(row=row, request=request, reason="idle")
            if is_api:
                if request.path in locked_allowed_paths():
                    return self.get_response(request)
                return _refusal("session_locked", "Your session is locked. Enter your password to continue.")
            request.user = AnonymousUser()
            return self.get_response(request)

        if not is_background(request) and request.path not in _paths(NOT_ACTIVITY_URL_NAMES):
            sessions.session_touch(row=row, now=now)
        if row.device_id is None and (device := sessions.parse_device_id(request.META.get(DEVICE_HEADER))):
            sessions.session_attach_device(row=row, device_id=device)
        if not row.user_agent or row.ip is None:
            sessions.session_describe(row=row, request=request)
        return self.get_response(request)
