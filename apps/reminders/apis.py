from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import request_user
from apps.core.pagination import Pagination

from .selectors import STATES, UPCOMING, reminders_for_user


class ReminderListApi(APIView):
    """The signed-in person's own reminders, for the PWA (``state``: upcoming, sent or all)."""

    class Filters(serializers.Serializer[Any]):
        state = serializers.ChoiceField(choices=STATES, required=False, default=UPCOMING)

    class Output(serializers.Serializer[Any]):
        id = serializers.IntegerField()
        kind = serializers.CharField()
        title = serializers.CharField()
        url = serializers.CharField()
        due_at = serializers.DateTimeField()
        status = serializers.CharField()
        sent_at = serializers.DateTimeField(allow_null=True)
        subject_type = serializers.CharField()
        subject_id = serializers.CharField()

    pagination_class = Pagination  # the schema documents the page envelope (count/next/previous/results)

    @extend_schema(parameters=[Filters], responses=Output(many=True))
    def get(self, request: Request) -> Response:
        filters = self.Filters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = reminders_for_user(user=request_user(request), state=filters.validated_data["state"])
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(self.Output(page or [], many=True).data)
