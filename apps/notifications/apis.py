"""The signed-in person's own phone number: see it, ask for a code to a new number, confirm, remove.

Only one's own number (no user id in the path): an administrator edits others in the admin site.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import request_user

from .phones import phone_number_remove, phone_state, phone_verification_confirm, phone_verification_start


class PhoneOutput(serializers.Serializer[dict[str, Any]]):
    number = serializers.CharField(allow_null=True, help_text="E.164, the number texts and calls go to.")
    verified = serializers.BooleanField()
    verified_at = serializers.DateTimeField(allow_null=True)
    sms_opted_out = serializers.BooleanField(help_text="The person texted STOP: no texts until START.")
    pending_number = serializers.CharField(allow_null=True, help_text="A new number waiting for its code.")
    pending_expires_at = serializers.DateTimeField(allow_null=True)
    sms_configured = serializers.BooleanField(help_text="False: this server cannot send texts at all.")


class MyPhoneApi(APIView):
    """GET the number; POST ``{number}`` texts a code to it (it replaces the current one once
    confirmed); DELETE removes it (no more texts or calls)."""

    class Input(serializers.Serializer[dict[str, str]]):
        number = serializers.CharField(max_length=32, help_text="Any common notation; +country for abroad.")

    @extend_schema(responses=PhoneOutput)
    def get(self, request: Request) -> Response:
        return Response(PhoneOutput(phone_state(request_user(request))).data)

    @extend_schema(
        request=Input,
        responses={
            202: PhoneOutput,
            502: OpenApiResponse(description="The provider could not send the text just now."),
            503: OpenApiResponse(description="Texts are not configured on this server."),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        phone_verification_start(user=user, number=data.validated_data["number"])
        return Response(PhoneOutput(phone_state(user)).data, status=202)

    @extend_schema(responses={204: None})
    def delete(self, request: Request) -> Response:
        phone_number_remove(user=request_user(request))
        return Response(status=204)


class MyPhoneConfirmApi(APIView):
    """POST ``{code}``: the 6 digits texted to the pending number."""

    class Input(serializers.Serializer[dict[str, str]]):
        code = serializers.CharField(max_length=12)

    @extend_schema(request=Input, responses=PhoneOutput)
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        phone_verification_confirm(user=user, code=data.validated_data["code"])
        return Response(PhoneOutput(phone_state(user)).data)
