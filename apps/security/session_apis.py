"""Session APIs (the contract in issue 8): status, lock, unlock, my sessions, lost-phone revoke."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.accounts.permissions import HasRole, request_user
from apps.accounts.roles import Role
from apps.core.errors import Invalid, NotFound
from apps.realtime.services import device_owner

from . import sessions
from .apis import _locked_out, _MeOutput, _refusal_of, me_payload
from .audit import Kind, record
from .models import UserSession
from .sessions import UNLOCK_FAILURES_KEY, State

SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.ADMIN)


class SessionUserOutput(serializers.Serializer[User]):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField(source="display_name")


class SessionStatusApi(APIView):
    """Is this browser signed in, locked, and when does it lock / expire. Never counts as activity."""

    permission_classes = [AllowAny]

    class Output(serializers.Serializer[dict[str, Any]]):
        authenticated = serializers.BooleanField()
        locked = serializers.BooleanField()
        idle_timeout_seconds = serializers.IntegerField()
        locks_at = serializers.DateTimeField(allow_null=True)
        expires_at = serializers.DateTimeField(allow_null=True)
        user = SessionUserOutput(allow_null=True)

    @extend_schema(responses=Output)
    def get(self, request: Request) -> Response:
        row = sessions.current_row(request._request)
        state = sessions.state_of(row)
        alive = row is not None and state in (State.ACTIVE, State.LOCKED)
        user = row.user if alive and row is not None else None
        return Response(
            self.Output(
                {
                    "authenticated": alive,
                    "locked": alive and state is State.LOCKED,
                    "idle_timeout_seconds": sessions.idle_seconds(),
                    "locks_at": sessions.locks_at(row) if alive and row is not None else None,
                    "expires_at": sessions.expires_at(row) if alive and row is not None else None,
                    "user": user,
                }
            ).data
        )


def _session_row(request: Request) -> UserSession:
    row = sessions.current_row(request._request)
    if row is None:
        raise NotAuthenticated()
    return row


class SessionLockApi(APIView):
    """Lock now (the PWA's own idle timer fired): the session answers ``session_locked`` until unlocked."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        sessions.session_lock(row=_session_row(request), request=request._request, reason="client")
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionUnlockApi(APIView):
    """Unlock a locked session with the password (through ``authenticate()``, so failures count
    toward the account lockout). ``SECURITY_UNLOCK_MAX_FAILURES`` wrong passwords end the session."""

    throttle_scope = "login"

    class Input(serializers.Serializer[dict[str, str]]):
        password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema(request=Input, responses=_MeOutput)
    def post(self, request: Request) -> Response:
        from django.conf import settings

        row = _session_row(request)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        checked = authenticate(request._request, username=user.get_username(), password=data.validated_data["password"])
        refusal = _refusal_of(request)
        if refusal is not None:
            # The account (or address) is locked out: say so and when to come back; the session stays locked.
            return _locked_out(refusal)
        if checked is None or checked.pk != user.pk:
            session = request._request.session
            failures = int(session.get(UNLOCK_FAILURES_KEY, 0)) + 1
            session[UNLOCK_FAILURES_KEY] = failures
            if failures >= int(settings.SECURITY_UNLOCK_MAX_FAILURES):
                sessions.session_end_unlock_failed(row=row, request=request._request)
                request._request.session.flush()
                return Response(
                    {"message": "Too many wrong passwords: sign in again.", "errors": {}, "code": "session_expired"},
                    status=status.HTTP_401_UNAUTHORIZED,
                )
            raise Invalid("Wrong password.", errors={"password": ["Wrong password."]})
        sessions.session_unlock(row=row, request=request._request)
        return Response(me_payload(user))


class MySessionsApi(APIView):
    """My active sessions (browsers / phones signed in as me)."""

    pagination_class = None

    class Output(serializers.Serializer[UserSession]):
        id = serializers.IntegerField()
        device_id = serializers.UUIDField(allow_null=True)
        label = serializers.CharField()  # type: ignore[assignment]
        user_agent = serializers.CharField()
        ip = serializers.IPAddressField(allow_null=True)
        created_at = serializers.DateTimeField()
        last_activity_at = serializers.DateTimeField()
        current = serializers.SerializerMethodField()

        def get_current(self, obj: UserSession) -> bool:
            return bool(obj.pk == self.context.get("current_id"))

    @extend_schema(responses=Output(many=True))
    def get(self, request: Request) -> Response:
        user = request_user(request)
        current = sessions.current_row(request._request)
        rows = sessions.sessions_active_for_user(user_id=user.pk)
        context = {"current_id": current.pk if current is not None else None}
        return Response(self.Output(rows, many=True, context=context).data)  # type: ignore[arg-type]


class MySessionApi(APIView):
    """Sign out this device: ends one of my sessions; its sockets close within seconds."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, session_id: int) -> Response:
        user = request_user(request)
        row = UserSession.objects.filter(pk=session_id, user=user, ended_at__isnull=True).first()
        if row is None:
            raise NotFound("No such session.")
        sessions.session_revoke(session_id=row.pk, by=user, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


_RevokeOutput = inline_serializer(
    "RevokeResult",
    {
        "sessions_revoked": serializers.IntegerField(),
        "push_subscriptions_removed": serializers.IntegerField(),
        "devices_revoked": serializers.IntegerField(),
    },
)


class UserRevokeDevicesApi(APIView):
    """Lost phone (supervisor / admin): end every session of the user, delete their push
    subscriptions and revoke their devices, at once."""

    permission_classes = [HasRole.of(*SUPERVISOR_ROLES)]

    @extend_schema(request=None, responses=_RevokeOutput)
    def post(self, request: Request, user_id: int) -> Response:
        target = User.objects.filter(pk=user_id).first()
        if target is None:
            raise NotFound("No such user.")
        result = sessions.user_revoke_devices(user_id=target.pk, by=request_user(request), request=request._request)
        return Response(result.as_dict())


class DeviceRevokeApi(APIView):
    """Lost phone, one device: supervisor / admin, or the device's owner."""

    @extend_schema(request=None, responses=_RevokeOutput)
    def post(self, request: Request, device_id: uuid.UUID) -> Response:
        user = request_user(request)
        owner = device_owner(device_id)
        supervisor = bool(user.roles & set(SUPERVISOR_ROLES))
        if owner is None or (owner != user.pk and not supervisor):
            if owner is not None and not supervisor:
                record(Kind.PERMISSION_DENIED, request=request, user=user, action="device.revoke")
            raise NotFound("No such device.")
        result = sessions.device_revoke(device_id=device_id, by=user, request=request._request)
        return Response(result.as_dict())
