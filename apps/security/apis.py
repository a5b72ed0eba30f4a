from __future__ import annotations

from typing import Any

import django_otp
from django.contrib.auth import authenticate, login, logout
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.accounts.permissions import request_user
from apps.accounts.roles import Role
from apps.core.errors import ApplicationError, Invalid
from apps.shifts.models import ShiftMember
from apps.shifts.selectors import shift_current_for_user

from . import lockout, mfa
from .audit import Kind, record
from .passwords import password_change


class PersonOutput(serializers.Serializer[User]):
    id = serializers.IntegerField()
    full_name = serializers.CharField(source="display_name")


def me_payload(user: User) -> dict[str, Any]:
    shift = shift_current_for_user(user=user)
    current_shift = None
    partner = None
    if shift is not None:
        members = [{"id": m.user_id, "full_name": m.user.display_name, "role": m.role} for m in shift.members.all()]
        current_shift = {
            "id": shift.pk,
            "team": {"id": shift.team_id, "call_sign": shift.team.call_sign},
            "starts_at": shift.starts_at.isoformat(),
            "ends_at": shift.ends_at.isoformat(),
            "members": members,
        }
        # The partner is the first other member, clinician/officer before anyone else.
        others = [m for m in members if m["id"] != user.pk]
        others.sort(key=lambda m: m["role"] == "other")
        partner = others[0] if others else None
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.display_name,
        "roles": sorted(user.roles),
        "is_staff": user.is_staff,
        "current_shift": current_shift,
        "partner": partner,
    }


_MeMemberOutput = inline_serializer(
    "MeMember",
    {
        "id": serializers.IntegerField(),
        "full_name": serializers.CharField(),
        "role": serializers.ChoiceField(choices=ShiftMember.Role.choices),
    },
)

_MeOutput = inline_serializer(
    "Me",
    {
        "id": serializers.IntegerField(),
        "username": serializers.CharField(),
        "full_name": serializers.CharField(),
        "roles": serializers.ListField(child=serializers.ChoiceField(choices=Role.choices)),
        "is_staff": serializers.BooleanField(),
        "current_shift": inline_serializer(
            "MeShift",
            {
                "id": serializers.IntegerField(),
                "team": inline_serializer(
                    "MeShiftTeam", {"id": serializers.IntegerField(), "call_sign": serializers.CharField()}
                ),
                "starts_at": serializers.DateTimeField(),
                "ends_at": serializers.DateTimeField(),
                "members": _MeMemberOutput.__class__(many=True),
            },
            allow_null=True,
        ),
        "partner": _MeMemberOutput.__class__(allow_null=True),
    },
)


class MeApi(APIView):
    """Who am I: roles, my current shift and my partner on it."""

    @extend_schema(responses=_MeOutput)
    def get(self, request: Request) -> Response:
        return Response(me_payload(request_user(request)))


@method_decorator(ensure_csrf_cookie, name="get")
class CsrfApi(APIView):
    """Sets the ``csrftoken`` cookie; the app sends it back as ``X-CSRFToken`` on every write."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=inline_serializer("Csrf", {"csrfToken": serializers.CharField()}))
    def get(self, request: Request) -> Response:
        return Response({"csrfToken": get_token(request._request)})


class MfaNotPending(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED


def _locked_out(exc: lockout.LockedOut) -> Response:
    retry_after = exc.retry_after
    return Response(
        {
            "message": "Too many failed attempts. Try again later, or ask an administrator to lift the lockout.",
            "errors": {},
            "code": "locked_out",
            "retry_after": retry_after,
        },
        status=status.HTTP_403_FORBIDDEN,
        headers={"Retry-After": str(retry_after)},
    )


def _refusal_of(request: Request) -> lockout.LockedOut | None:
    refusal = getattr(request._request, lockout.REQUEST_ATTR, None)
    return refusal if isinstance(refusal, lockout.LockedOut) else None


def _check_password(request: Request, user: User, password: str) -> Response | None:
    """Re-check a signed-in user's password through authenticate() (so it counts toward the
    lockout). None when right; the 400 / 403 answer otherwise."""
    checked = authenticate(request._request, username=user.get_username(), password=password)
    refusal = _refusal_of(request)
    if refusal is not None:
        return _locked_out(refusal)
    if checked is None or checked.pk != user.pk:
        raise Invalid("Wrong password.", errors={"password": ["Wrong password."]})
    return None


def _sign_in(request: Request, user: User, device: Any, *, via: str) -> None:
    backend = mfa.pending_backend(request)
    mfa.pending_clear(request)
    login(request._request, user, backend=backend)
    django_otp.login(request._request, device)
    lockout.clear_account(user.get_username())
    record(Kind.LOGIN_SUCCEEDED, request=request, user=user, via=via)


_StatusOutput = inline_serializer("LoginStatus", {"status": serializers.CharField()})
_CodeInput = inline_serializer("MfaCode", {"code": serializers.CharField(max_length=20)})
_RecoveryCodes = serializers.ListField(child=serializers.CharField())


class LoginApi(APIView):
    """Step one of sign-in: the password. Never signs in by itself: the session only remembers,
    for a few minutes, that this user's password was right; ``mfa/verify/`` (or the enrolment on a
    first sign-in) completes the sign-in."""

    permission_classes = [AllowAny]
    throttle_scope = "login"

    class Input(serializers.Serializer[dict[str, str]]):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema(request=Input, responses=_StatusOutput)
    def post(self, request: Request) -> Response:
        # DRF skips CSRF for anonymous requests; a forged login would sign the victim in as someone else.
        SessionAuthentication().enforce_csrf(request)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["username"]
        user = authenticate(request._request, username=username, password=data.validated_data["password"])
        refusal = _refusal_of(request)
        if refusal is not None:
            return _locked_out(refusal)
        if user is None or not isinstance(user, User):
            raise Invalid("Wrong username or password.", errors={"password": ["Wrong username or password."]})
        if request.user.is_authenticated:
            # A new sign-in on a signed-in browser starts from scratch (no half-mixed sessions).
            logout(request._request)
        mfa.pending_set(request, user=user, backend=str(getattr(user, "backend", "")))
        enrolled = mfa.has_confirmed_device(user)
        record(Kind.MFA_REQUIRED, request=request, user=user, enrolled=enrolled)
        return Response({"status": "mfa_required" if enrolled else "mfa_enrollment_required"})


def _pending_or_401(request: Request) -> User:
    user = mfa.pending_user(request)
    if not isinstance(user, User):
        raise MfaNotPending(
            "Your sign-in has expired or was not started. Enter your username and password again.",
            code="mfa_not_pending",
        )
    return user


class MfaVerifyApi(APIView):
    """Step two: the 6-digit code from the authenticator, or a recovery code. Signs in."""

    permission_classes = [AllowAny]
    throttle_scope = "login"

    class Input(serializers.Serializer[dict[str, str]]):
        code = serializers.CharField(max_length=20)

    @extend_schema(request=Input, responses=_MeOutput)
    def post(self, request: Request) -> Response:
        SessionAuthentication().enforce_csrf(request)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = _pending_or_401(request)
        if not mfa.has_confirmed_device(user):
            raise Invalid(
                "Set up your authenticator first.",
                errors={"code": ["Set up your authenticator first."]},
                code="mfa_enrollment_required",
            )
        verified: mfa.Verified | None = None
        try:
            with lockout.attempt(request=request, username=user.get_username()) as attempt:
                verified = mfa.verify_code(user=user, code=data.validated_data["code"])
                if verified is None:
                    attempt.failed("mfa")
        except lockout.LockedOut as exc:
            mfa.pending_clear(request)
            return _locked_out(exc)
        if verified is None:
            raise Invalid(
                "Wrong or expired code.",
                errors={"code": ["Wrong or expired code. Enter the current code from your authenticator app."]},
            )
        _sign_in(request, user, verified.device, via="recovery_code" if verified.recovery else "totp")
        if verified.recovery:
            record(Kind.MFA_RECOVERY_USED, request=request, user=user, left=mfa.recovery_codes_left(user))
        return Response(me_payload(user))


class MfaEnrollApi(APIView):
    """Start setting up an authenticator: on a first sign-in (password verified, no authenticator
    yet), or signed in to replace the authenticator (then the password is asked again)."""

    permission_classes = [AllowAny]
    throttle_scope = "login"

    class Input(serializers.Serializer[dict[str, str]]):
        password = serializers.CharField(max_length=256, trim_whitespace=False, required=False)

    class Output(serializers.Serializer[dict[str, str]]):
        secret = serializers.CharField()
        otpauth_uri = serializers.CharField()
        qr_svg = serializers.CharField()

    @extend_schema(request=Input, responses=Output)
    def post(self, request: Request) -> Response:
        SessionAuthentication().enforce_csrf(request)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        if isinstance(request.user, User) and request.user.is_authenticated:
            user = request.user
            password = data.validated_data.get("password")
            if not password:
                raise Invalid("Enter your password.", errors={"password": ["Enter your password."]})
            refused = _check_password(request, user, password)
            if refused is not None:
                return refused
        else:
            user = _pending_or_401(request)
            if mfa.has_confirmed_device(user):
                raise PermissionDeniedError(
                    "You already have an authenticator: enter its code, or a recovery code.",
                    code="mfa_already_enrolled",
                )
        enrollment = mfa.enrollment_start(user=user)
        return Response(
            {"secret": enrollment.secret, "otpauth_uri": enrollment.otpauth_uri, "qr_svg": enrollment.qr_svg}
        )


class PermissionDeniedError(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN


class MfaEnrollConfirmApi(APIView):
    """Finish setting up the authenticator with a code from it: returns ten recovery codes (shown
    once) and signs in (on a first sign-in)."""

    permission_classes = [AllowAny]
    throttle_scope = "login"

    class Input(serializers.Serializer[dict[str, str]]):
        code = serializers.CharField(max_length=20)

    @extend_schema(
        request=Input,
        responses=inline_serializer("MfaEnrolled", {"recovery_codes": _RecoveryCodes, "me": _MeOutput}),
    )
    def post(self, request: Request) -> Response:
        SessionAuthentication().enforce_csrf(request)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        signed_in = isinstance(request.user, User) and request.user.is_authenticated
        user = request.user if isinstance(request.user, User) and signed_in else _pending_or_401(request)
        if mfa.totp_device(user, confirmed=False) is None:
            raise Invalid(
                "Start setting up the authenticator first.",
                errors={"code": ["Start setting up the authenticator first."]},
            )
        device: Any = None
        try:
            with lockout.attempt(request=request, username=user.get_username()) as attempt:
                device = mfa.enrollment_confirm(user=user, code=data.validated_data["code"])
                if device is None:
                    attempt.failed("mfa", step="enroll")
        except lockout.LockedOut as exc:
            if not signed_in:
                mfa.pending_clear(request)
            return _locked_out(exc)
        if device is None:
            raise Invalid(
                "Wrong or expired code.",
                errors={"code": ["Wrong or expired code. Enter the current code shown by your authenticator app."]},
            )
        codes = mfa.recovery_codes_generate(user=user)
        record(Kind.MFA_ENROLLED, request=request, user=user, replaced=signed_in)
        if signed_in:
            django_otp.login(request._request, device)
        else:
            _sign_in(request, user, device, via="enrollment")
        return Response({"recovery_codes": codes, "me": me_payload(user)})


class MfaStatusApi(APIView):
    """My second factor: enrolled since when, and how many recovery codes are left."""

    # People only: a machine client's API key never manages a second factor or a password.
    authentication_classes = [SessionAuthentication]

    @extend_schema(
        responses=inline_serializer(
            "MfaStatus",
            {
                "enrolled": serializers.BooleanField(),
                "confirmed_at": serializers.DateTimeField(allow_null=True),
                "recovery_codes_left": serializers.IntegerField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        state = mfa.mfa_status(request_user(request))
        return Response(
            {
                "enrolled": state.enrolled,
                "confirmed_at": state.confirmed_at.isoformat() if state.confirmed_at else None,
                "recovery_codes_left": state.recovery_codes_left,
            }
        )


class MfaRecoveryCodesApi(APIView):
    """Replace my recovery codes with ten new ones (the old ones stop working). Asks the password."""

    # People only: a machine client's API key never manages a second factor or a password.
    authentication_classes = [SessionAuthentication]

    throttle_scope = "login"

    class Input(serializers.Serializer[dict[str, str]]):
        password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema(request=Input, responses=inline_serializer("RecoveryCodes", {"recovery_codes": _RecoveryCodes}))
    def post(self, request: Request) -> Response:
        user = request_user(request)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        refused = _check_password(request, user, data.validated_data["password"])
        if refused is not None:
            return refused
        if not mfa.has_confirmed_device(user):
            raise Invalid("Set up your authenticator first.", errors={})
        codes = mfa.recovery_codes_generate(user=user)
        record(Kind.MFA_RECOVERY_REGENERATED, request=request, user=user)
        return Response({"recovery_codes": codes})


class PasswordChangeApi(APIView):
    """Change my password. Other sessions of mine end (Django's session auth hash changes); this
    one stays signed in."""

    authentication_classes = [SessionAuthentication]
    throttle_scope = "login"

    class Input(serializers.Serializer[dict[str, str]]):
        old_password = serializers.CharField(max_length=256, trim_whitespace=False)
        new_password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema(request=Input, responses={204: None})
    def post(self, request: Request) -> Response:
        user = request_user(request)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        checked = authenticate(
            request._request, username=user.get_username(), password=data.validated_data["old_password"]
        )
        refusal = _refusal_of(request)
        if refusal is not None:
            return _locked_out(refusal)
        if checked is None or checked.pk != user.pk:
            raise Invalid("Wrong password.", errors={"old_password": ["Wrong password."]})
        password_change(request=request._request, user=user, new_password=data.validated_data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        user = request.user if isinstance(request.user, User) else None
        logout(request._request)
        if user is not None:
            record(Kind.LOGOUT, request=request, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)
