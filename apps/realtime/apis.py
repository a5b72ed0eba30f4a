from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import HasRole, request_user
from apps.accounts.roles import Role

from .models import Event
from .push import vapid_keys
from .receipts import Stage, receipt_record
from .selectors import delivery_board
from .services import events_after, push_subscription_delete, push_subscription_save


def event_json(event: Event) -> dict[str, object]:
    return {
        "cursor": event.seq,
        "id": str(event.uid),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": event.data,
        "receipt": event.takes_receipt,
    }


class EventOutput(serializers.Serializer[dict[str, object]]):
    """``event_json``: one event of the user's stream; ``data`` is the type's payload (apps.realtime.registry)."""

    cursor = serializers.IntegerField()
    id = serializers.UUIDField()
    type = serializers.CharField(help_text="A registered event type (`manage.py event_types`).")
    created_at = serializers.DateTimeField()
    data = serializers.DictField()  # type: ignore[assignment]  # the payload key is "data"
    receipt = serializers.BooleanField(
        help_text="The type takes delivery receipts: keep a receipt until the server confirms it."
    )


class EventsResyncApi(APIView):
    """The same stream as ``/ws/events/``, for clients without a socket and after every reconnect."""

    class Input(serializers.Serializer[dict[str, int]]):
        after = serializers.IntegerField(min_value=0, default=0)
        limit = serializers.IntegerField(min_value=1, max_value=500, default=200)

    class Output(serializers.Serializer[dict[str, object]]):
        results = EventOutput(many=True)
        next_after = serializers.IntegerField()
        has_more = serializers.BooleanField()

    @extend_schema(parameters=[Input], responses=Output)
    def get(self, request: Request) -> Response:
        params = self.Input(data=request.query_params)
        params.is_valid(raise_exception=True)
        after, limit = params.validated_data["after"], params.validated_data["limit"]
        events = events_after(user_id=request_user(request).pk, after=after, limit=limit + 1)
        page = events[:limit]
        return Response(
            {
                "results": [event_json(e) for e in page],
                "next_after": page[-1].seq if page else after,
                "has_more": len(events) > limit,
            }
        )


class ReceiptCreateApi(APIView):
    """Delivered / seen of one event on one device (the REST twin of the socket's ``ack`` / ``seen``).

    Idempotent: a stage already recorded is not written again and emits nothing, so a client resends
    a receipt it has no confirmation for (a 200 is the confirmation; a 4xx means "forget it")."""

    class Input(serializers.Serializer[dict[str, object]]):
        device = serializers.UUIDField()
        stage = serializers.ChoiceField(choices=[Stage.DELIVERED, Stage.SEEN])
        cursor = serializers.IntegerField(min_value=1, required=False)
        id = serializers.UUIDField(required=False)

        def validate(self, attrs: dict[str, object]) -> dict[str, object]:
            if "cursor" not in attrs and "id" not in attrs:
                raise serializers.ValidationError({"cursor": ["Give cursor or id (or both: the id wins)."]})
            return attrs

    class Output(serializers.Serializer[dict[str, object]]):
        recorded = serializers.BooleanField()
        delivered_at = serializers.DateTimeField(allow_null=True)
        seen_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(request=Input, responses=Output)
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        receipt = receipt_record(
            user=request_user(request),
            device_id=v["device"],
            stage=v["stage"],
            cursor=v.get("cursor"),
            event_uid=v.get("id"),
        )
        body: dict[str, object] = {
            "recorded": receipt is not None,
            "delivered_at": receipt.delivered_at if receipt else None,
            "seen_at": receipt.seen_at if receipt else None,
        }
        return Response(self.Output(body).data)


class DeliveryBoardApi(APIView):
    """Escalations of the last hours with per-device receipts: the dispatcher board's first load
    (``delivery.*`` events keep it live afterwards)."""

    permission_classes = [HasRole.of(Role.DISPATCHER, Role.SUPERVISOR)]

    class Input(serializers.Serializer[dict[str, object]]):
        hours = serializers.IntegerField(min_value=1, max_value=48, default=12)

    # A raw schema: the board rows are free-form objects (a ListField is not a response serializer).
    @extend_schema(
        parameters=[Input],
        responses={200: {"type": "array", "items": {"type": "object", "additionalProperties": True}}},
    )
    def get(self, request: Request) -> Response:
        params = self.Input(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(delivery_board(hours=params.validated_data["hours"]))


class VapidPublicKeyApi(APIView):
    class Output(serializers.Serializer[dict[str, str]]):
        public_key = serializers.CharField()

    @extend_schema(responses={200: Output, 503: OpenApiResponse(description="Web Push is not configured.")})
    def get(self, request: Request) -> Response:
        try:
            _private, public = vapid_keys()
        except ImproperlyConfigured:
            # Not a client error and not a crash: push is simply not set up on this server.
            body = {"message": "Web Push is not configured on this server.", "errors": {}}
            return Response(body, status=503)
        return Response({"public_key": public})


class PushSubscriptionApi(APIView):
    """Subscribe (POST, idempotent per device) or unsubscribe (DELETE) one device."""

    class Input(serializers.Serializer[dict[str, object]]):
        class Keys(serializers.Serializer[dict[str, str]]):
            p256dh = serializers.CharField(max_length=200)
            auth = serializers.CharField(max_length=100)

        device = serializers.UUIDField()
        endpoint = serializers.URLField(max_length=1000)
        keys = Keys()

        def validate_endpoint(self, value: str) -> str:
            if not value.startswith("https://") and not settings.DEBUG:
                raise serializers.ValidationError("Push endpoints are https URLs.")
            return value

    class DeleteInput(serializers.Serializer[dict[str, object]]):
        device = serializers.UUIDField(required=False)
        endpoint = serializers.URLField(max_length=1000, required=False)

        def validate(self, attrs: dict[str, object]) -> dict[str, object]:
            if not attrs:
                raise serializers.ValidationError({"device": ["Give device or endpoint."]})
            return attrs

    class Output(serializers.Serializer[dict[str, object]]):
        device = serializers.UUIDField()
        endpoint = serializers.URLField()
        created = serializers.BooleanField()

    @extend_schema(request=Input, responses={201: Output, 200: Output})
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        subscription, created = push_subscription_save(
            user=request_user(request),
            device_id=v["device"],
            endpoint=v["endpoint"],
            p256dh=v["keys"]["p256dh"],
            auth=v["keys"]["auth"],
            user_agent=request.headers.get("User-Agent", ""),
        )
        body: dict[str, object] = {
            "device": subscription.device_id,
            "endpoint": subscription.endpoint,
            "created": created,
        }
        return Response(self.Output(body).data, status=201 if created else 200)

    @extend_schema(request=DeleteInput, responses={204: None})
    def delete(self, request: Request) -> Response:
        data = self.DeleteInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        push_subscription_delete(user=request_user(request), device_id=v.get("device"), endpoint=v.get("endpoint"))
        return Response(status=204)
