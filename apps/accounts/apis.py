from __future__ import annotations

from typing import Any

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

from apps.core.errors import Invalid
from apps.shifts.selectors import shift_current_for_user

from .models import User
from .permissions import request_user


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


_MeOutput = inline_serializer(
    "Me",
    {
        "id": serializers.IntegerField(),
        "username": serializers.CharField(),
        "full_name": serializers.CharField(),
        "roles": serializers.ListField(child=serializers.CharField()),
        "is_staff": serializers.BooleanField(),
        "current_shift": serializers.DictField(allow_null=True),
        "partner": serializers.DictField(allow_null=True),
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


class LoginApi(APIView):
    permission_classes = [AllowAny]

    class Input(serializers.Serializer[dict[str, str]]):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema(request=Input, responses=_MeOutput)
    def post(self, request: Request) -> Response:
        # DRF skips CSRF for anonymous requests; a forged login would sign the victim in as someone else.
        SessionAuthentication().enforce_csrf(request)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None or not isinstance(user, User):
            raise Invalid("Wrong username or password.", errors={"password": ["Wrong username or password."]})
        login(request._request, user)
        return Response(me_payload(user))


class LogoutApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
