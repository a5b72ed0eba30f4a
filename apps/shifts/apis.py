from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.accounts.permissions import HasRole, request_user
from apps.accounts.roles import ALL_ROLES, Role
from apps.core.fields import AwareDateTimeField
from apps.core.pagination import Pagination
from apps.core.timefmt import local_day_bounds, local_today
from apps.teams.models import Team

from .models import Shift
from .selectors import shifts_in_range
from .services import MemberSpec, shift_create, shift_delete, shift_update

MAX_RANGE_DAYS = 92
SHIFT_WRITERS = (Role.SUPERVISOR, Role.ADMIN)


class MemberOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="user_id")
    full_name = serializers.CharField(source="user.display_name")
    role = serializers.CharField()


@extend_schema_serializer(component_name="TeamRef")  # apps.incidents has its own TeamRefOutput
class TeamRefOutput(serializers.Serializer[Team]):
    id = serializers.IntegerField()
    call_sign = serializers.CharField()


class ShiftOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    team = TeamRefOutput()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    note = serializers.CharField()
    members = MemberOutput(many=True, source="members.all")


class MemberInput(serializers.Serializer[Any]):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.prefetch_related("groups"))
    role = serializers.ChoiceField(choices=["clinician", "officer", "other"])


class ShiftInput(serializers.Serializer[Any]):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    members = MemberInput(many=True, allow_empty=False)


def _members(data: dict[str, Any]) -> list[MemberSpec]:
    return [MemberSpec(user=m["user"], role=m["role"]) for m in data["members"]]


class ShiftListApi(APIView):
    """Shifts overlapping a date range (local days), by team and person. Writers: supervisor, admin."""

    class Filters(serializers.Serializer[Any]):
        start = serializers.DateField(required=False, help_text="First local day (default today).")
        end = serializers.DateField(required=False, help_text="Last local day, inclusive (default start + 6).")
        team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False)
        person = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            start = attrs.get("start") or local_today()
            try:
                end = attrs.get("end") or start + dt.timedelta(days=6)
                local_day_bounds(end)  # the day after `end` must exist (9999-12-31 has none)
            except OverflowError:
                raise serializers.ValidationError({"end": ["Date out of range."]}) from None
            if end < start:
                raise serializers.ValidationError({"end": ["End date must not be before the start date."]})
            if (end - start).days >= MAX_RANGE_DAYS:
                raise serializers.ValidationError({"end": [f"A range is at most {MAX_RANGE_DAYS} days."]})
            return {**attrs, "start": start, "end": end}

    def get_permissions(self) -> list[Any]:
        roles = SHIFT_WRITERS if self.request.method == "POST" else tuple(ALL_ROLES)
        return [HasRole.of(*roles)()]

    pagination_class = Pagination  # the schema documents the page envelope (count/next/previous/results)

    @extend_schema(parameters=[Filters], responses=ShiftOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = self.Filters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        qs = shifts_in_range(
            start=local_day_bounds(f["start"])[0],
            end=local_day_bounds(f["end"])[1],
            team=f.get("team"),
            person=f.get("person"),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(ShiftOutput(page or [], many=True).data)

    @extend_schema(request=ShiftInput, responses={201: ShiftOutput})
    def post(self, request: Request) -> Response:
        data = ShiftInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        shift = shift_create(
            team=v["team"],
            starts_at=v["starts_at"],
            ends_at=v["ends_at"],
            members=_members(v),
            note=v["note"],
            created_by=request_user(request),
        )
        return Response(ShiftOutput(shift).data, status=status.HTTP_201_CREATED)


class ShiftDetailApi(APIView):
    def get_permissions(self) -> list[Any]:
        roles = tuple(ALL_ROLES) if self.request.method in SAFE_METHODS else SHIFT_WRITERS
        return [HasRole.of(*roles)()]

    @extend_schema(responses=ShiftOutput)
    def get(self, request: Request, shift_id: int) -> Response:
        return Response(ShiftOutput(get_object_or_404(Shift, pk=shift_id)).data)

    @extend_schema(request=ShiftInput, responses=ShiftOutput)
    def put(self, request: Request, shift_id: int) -> Response:
        shift = get_object_or_404(Shift, pk=shift_id)
        data = ShiftInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        shift = shift_update(
            shift=shift,
            team=v["team"],
            starts_at=v["starts_at"],
            ends_at=v["ends_at"],
            members=_members(v),
            note=v["note"],
            by=request_user(request),
        )
        return Response(ShiftOutput(shift).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, shift_id: int) -> Response:
        shift_delete(shift=get_object_or_404(Shift, pk=shift_id), by=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
