"""The session rules for event sockets, given to realtime as its socket guard (apps.realtime.guard).

A socket is admitted for a signed-in session with a live, unlocked session record; it joins the
record's group (and, once its hello names a device, the device's group) so a revoke or a lock closes
it at once. Every ``EVENTS_CATCHUP_SECONDS`` the sweeper asks again for all sockets of its process:
the Django session must still exist, unexpired, for the same user, and the record must be active.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from importlib import import_module
from typing import Any, NamedTuple

from django.conf import settings
from django.utils import timezone

from apps.realtime.guard import Access, Admission

from .models import UserSession
from .sessions import SESSION_ID_KEY, State, device_group, session_group, session_link_device, state_of

ACCESS = {State.ACTIVE: Access.OPEN, State.LOCKED: Access.LOCKED, State.EXPIRED: Access.CLOSED}


class SocketSignIn(NamedTuple):
    """The guard's handle for one socket (opaque to realtime)."""

    session_id: int
    session_key: str
    user_id: int


def _valid_session_keys(refs: list[SocketSignIn]) -> set[str]:
    """Django session keys that still exist, are unexpired and belong to the same user."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        store = import_module(settings.SESSION_ENGINE).SessionStore
        return {r.session_key for r in refs if str(store(r.session_key).load().get("_auth_user_id")) == str(r.user_id)}
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    owner = {r.session_key: r.user_id for r in refs}
    rows = dict(
        Session.objects.filter(session_key__in=owner, expire_date__gt=timezone.now()).values_list(
            "session_key", "session_data"
        )
    )
    decoder = SessionStore()
    return {key for key, data in rows.items() if str(decoder.decode(data).get("_auth_user_id")) == str(owner[key])}


class SessionSocketGuard:
    def admit(self, *, user_id: int, session: Any) -> Admission:
        session_id = session.get(SESSION_ID_KEY) if session is not None else None
        key = getattr(session, "session_key", None)
        if not isinstance(session_id, int) or not key:
            return Admission(Access.CLOSED)  # ended / unrecorded → 4401
        row = UserSession.objects.filter(pk=session_id, user_id=user_id).first()
        access = ACCESS.get(state_of(row), Access.CLOSED)
        return Admission(access, SocketSignIn(session_id, str(key), user_id), (session_group(session_id),))

    def device_seen(self, *, ref: Hashable | None, device_id: uuid.UUID) -> tuple[str, ...]:
        if isinstance(ref, SocketSignIn):
            session_link_device(session_id=ref.session_id, device_id=device_id)
        return (device_group(device_id),)

    def recheck(self, refs: list[Hashable]) -> dict[Hashable, Access]:
        sign_ins = [r for r in refs if isinstance(r, SocketSignIn)]
        if not sign_ins:
            return {}
        valid = _valid_session_keys(sign_ins)
        now = timezone.now()
        states = {
            row.pk: state_of(row, now) for row in UserSession.objects.filter(pk__in={r.session_id for r in sign_ins})
        }
        return {
            r: ACCESS.get(states.get(r.session_id, State.ENDED), Access.CLOSED)
            if r.session_key in valid
            else Access.CLOSED
            for r in sign_ins
        }
