from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import request_user

from .models import Event
from .services import events_after


def event_json(event: Event) -> dict[str, object]:
    return {
        "cursor": event.seq,
        "id": str(event.uid),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": event.data,
    }


class EventsResyncApi(APIView):
    """The same stream as ``/ws/events/``, for clients without a socket and after every reconnect."""

    class Input(serializers.Serializer[dict[str, int]]):
        after = serializers.IntegerField(min_value=0, default=0)
        limit = serializers.IntegerField(min_value=1, max_value=500, default=200)

    class Output(serializers.Serializer[dict[str, object]]):
        results = serializers.ListField(child=serializers.DictField())
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
