"""HTTP APIs for the PWA and the dispatcher board. Each view parses input, calls one service or
selector, and shapes the output; field filtering by role happens in the output serializers.

Every write accepts an optional ``Idempotency-Key`` header (``@idempotent(required=False)``,
apps/core/idempotency.py).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import HasRole, request_user
from apps.accounts.roles import OPERATIONS_ROLES
from apps.core.fields import AwareDateTimeField
from apps.core.idempotency import idempotent
from apps.core.pagination import Pagination
from apps.shifts.apis import MemberOutput
from apps.shifts.apis import TeamRefOutput as ShiftTeamRefOutput

from . import access, labels, services
from .models import Assignment, DispositionCode, Incident, TimelineEntry
from .selectors import (
    ClosedFilters,
    IncidentFilters,
    active_assignment_of,
    assignment_inbox,
    dispositions_of,
    incident_board,
    incident_closed_list,
    incident_get_for_user,
    incident_list,
    incident_recommendations,
    open_unassigned_alert_of,
    team_availability,
    viewer_context,
)

READERS = HasRole.of(*access.READ_ROLES)
DISPATCHERS = HasRole.of(*access.DISPATCH_ROLES)
FIELD_AND_DISPATCH = HasRole.of(*access.DISPATCH_ROLES, "clinician", "officer")


# --- output -----------------------------------------------------------------------------------------


class TeamRefOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    call_sign = serializers.CharField()


class AssignmentOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    incident_id = serializers.IntegerField()
    team = TeamRefOutput()
    status = serializers.CharField()
    offered_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    en_route_at = serializers.DateTimeField(allow_null=True)
    on_scene_at = serializers.DateTimeField(allow_null=True)
    transporting_at = serializers.DateTimeField(allow_null=True)
    at_facility_at = serializers.DateTimeField(allow_null=True)
    cleared_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField()


class SafetyOutput(serializers.Serializer[Any]):
    weapon_present = serializers.BooleanField()
    weapon_kind = serializers.CharField()
    violence_toward_responders = serializers.BooleanField()
    substances_involved = serializers.BooleanField()
    premise_hazards = serializers.CharField()
    safety_notes = serializers.CharField()


_VISIBLE_TO_ANALYSTS = frozenset(
    {
        "status",
        "priority",
        "source",
        "call_type_code",
        "coresponse_eligible",
        "triage_outcome",
        "not_served_reason",
        "behavioral_health",
        "weapon_present",
        "violence_toward_responders",
        "substances_involved",
        "beat",
        "district",
        "received_at",
    }
)


class TimelineOutput(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    field = serializers.CharField()
    old_value = serializers.CharField()
    new_value = serializers.CharField()
    actor = serializers.CharField(source="actor.display_name", default=None)
    assignment_id = serializers.IntegerField(allow_null=True)
    text = serializers.SerializerMethodField(
        help_text='The entry as people read it ("Triage outcome: Dispatch co-response"); hidden values say so.'
    )

    def get_text(self, instance: TimelineEntry) -> str:
        return ""  # written by to_representation, from the values this viewer may see

    def to_representation(self, instance: TimelineEntry) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        tier = self.context.get("tier", access.DEIDENTIFIED)
        hidden = access.hidden_fields(tier)
        redact = instance.field in hidden
        if tier == access.DEIDENTIFIED:
            if instance.field.startswith("assignment."):
                # Keep the status words, drop free-text reasons.
                data["old_value"] = data["old_value"].split(" (", 1)[0]
                data["new_value"] = data["new_value"].split(" (", 1)[0]
            elif instance.field not in _VISIBLE_TO_ANALYSTS:
                redact = True
        if redact:
            data["old_value"] = labels.REDACTED if data["old_value"] else ""
            data["new_value"] = labels.REDACTED if data["new_value"] else ""
        data["text"] = labels.timeline_text(
            kind=instance.kind, field=instance.field, old=data["old_value"], new=data["new_value"]
        )
        return data


class IncidentOutput(serializers.Serializer[Any]):
    """All incident fields; ``to_representation`` removes those the viewer may not see."""

    id = serializers.IntegerField()
    cad_source = serializers.CharField()
    cad_number = serializers.CharField()
    received_at = serializers.DateTimeField()
    age_seconds = serializers.SerializerMethodField()
    source = serializers.CharField()  # type: ignore[assignment]  # the API field is called "source"
    call_type_code = serializers.CharField()
    call_type_description = serializers.CharField(source="call_type.description", default="")
    call_type_common = serializers.CharField(source="call_type.apco_code", default="")
    priority_local = serializers.CharField()
    priority = serializers.IntegerField()
    address = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    beat = serializers.CharField()
    district = serializers.CharField()
    caller_name = serializers.CharField()
    caller_phone = serializers.CharField()
    subject_name = serializers.CharField()
    subject_dob = serializers.DateField(allow_null=True)
    subject_phone = serializers.CharField()
    subject_description = serializers.CharField()
    weapon_present = serializers.BooleanField()
    weapon_kind = serializers.CharField()
    violence_toward_responders = serializers.BooleanField()
    substances_involved = serializers.BooleanField()
    premise_hazards = serializers.CharField()
    safety_notes = serializers.CharField()
    operational_notes = serializers.CharField()
    status = serializers.CharField()
    behavioral_health = serializers.BooleanField()
    coresponse_eligible = serializers.BooleanField(allow_null=True)
    eligibility_reason = serializers.CharField()
    triage_outcome = serializers.CharField()
    not_served_reason = serializers.CharField()
    not_served_note = serializers.CharField()
    triaged_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    assignment = serializers.SerializerMethodField()
    unassigned_alert = serializers.SerializerMethodField(
        help_text="Set while the call, eligible for co-response, has waited longer than its priority allows "
        "with no team (INCIDENTS_UNASSIGNED_ALERT_SECONDS); null otherwise."
    )
    access = serializers.SerializerMethodField()

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        # Fields a tier may remove (to_representation) are optional in the OpenAPI schema, so a
        # client (and the schema conformance check) knows an officer or analyst gets fewer keys.
        for name in access.IDENTITY_FIELDS | access.DEIDENTIFIED_HIDDEN:
            if name in fields:
                fields[name].required = False
        return fields

    def _tier(self, incident: Incident) -> str:
        base = self.context.get("base_tier")
        if base == access.OFFICER:
            return access.FULL if incident.pk in self.context.get("current_ids", set()) else access.OFFICER
        return str(base or access.DEIDENTIFIED)

    def get_age_seconds(self, incident: Incident) -> int:
        return int((timezone.now() - incident.received_at).total_seconds())

    @extend_schema_field(AssignmentOutput(allow_null=True))
    def get_assignment(self, incident: Incident) -> dict[str, Any] | None:
        active = active_assignment_of(incident)
        return dict(AssignmentOutput(active).data) if active else None

    @extend_schema_field(
        inline_serializer(
            "UnassignedAlertOutput",
            {
                "waiting_since": serializers.DateTimeField(),
                "threshold_seconds": serializers.IntegerField(),
                "raised_at": serializers.DateTimeField(),
            },
            allow_null=True,
        )
    )
    def get_unassigned_alert(self, incident: Incident) -> dict[str, Any] | None:
        alert = open_unassigned_alert_of(incident)
        if alert is None:
            return None
        return {
            "waiting_since": serializers.DateTimeField().to_representation(alert.waiting_since),
            "threshold_seconds": alert.threshold_seconds,
            "raised_at": serializers.DateTimeField().to_representation(alert.raised_at),
        }

    def get_access(self, incident: Incident) -> str:
        return self._tier(incident)

    def to_representation(self, instance: Incident) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        tier = self._tier(instance)
        for name in access.hidden_fields(tier):
            data.pop(name, None)
        if tier == access.DEIDENTIFIED and data.get("assignment"):
            data["assignment"]["end_reason"] = ""
        return data


class IncidentDetailOutput(IncidentOutput):
    timeline = serializers.SerializerMethodField()
    assignments = serializers.SerializerMethodField()

    @extend_schema_field(TimelineOutput(many=True))
    def get_timeline(self, incident: Incident) -> list[dict[str, Any]]:
        ctx = {"tier": self._tier(incident)}
        return list(TimelineOutput(incident.timeline.all(), many=True, context=ctx).data)

    @extend_schema_field(AssignmentOutput(many=True))
    def get_assignments(self, incident: Incident) -> list[dict[str, Any]]:
        rows: list[Assignment] = getattr(incident, "all_assignments", [])
        out = list(AssignmentOutput(rows, many=True).data)
        if self._tier(incident) == access.DEIDENTIFIED:
            for row in out:
                row["end_reason"] = ""
        return out


def _detail(request: Request, incident_id: int, *, code: int = status.HTTP_200_OK) -> Response:
    user = request_user(request)
    incident = incident_get_for_user(incident_id=incident_id, user=user)
    return Response(IncidentDetailOutput(incident, context=viewer_context(user)).data, status=code)


# --- input ------------------------------------------------------------------------------------------


class IncidentFieldsInput(serializers.Serializer[Any]):
    received_at = AwareDateTimeField(required=False)
    source = serializers.ChoiceField(choices=Incident.Source.choices, required=False)  # type: ignore[assignment]
    call_type = serializers.CharField(max_length=20, required=False, help_text="Local call-type code, e.g. SUICTHRT.")
    priority_local = serializers.CharField(max_length=40, required=False, allow_blank=True)
    priority = serializers.IntegerField(min_value=0, max_value=10, required=False)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True)
    beat = serializers.CharField(max_length=40, required=False, allow_blank=True)
    district = serializers.CharField(max_length=40, required=False, allow_blank=True)
    caller_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    caller_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    subject_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    subject_dob = serializers.DateField(required=False, allow_null=True)
    subject_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    subject_description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    weapon_present = serializers.BooleanField(required=False)
    weapon_kind = serializers.CharField(max_length=100, required=False, allow_blank=True)
    violence_toward_responders = serializers.BooleanField(required=False)
    substances_involved = serializers.BooleanField(required=False)
    premise_hazards = serializers.CharField(max_length=300, required=False, allow_blank=True)
    safety_notes = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    operational_notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    behavioral_health = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        if "call_type" in attrs:
            attrs["call_type_code"] = attrs.pop("call_type")
        return attrs


class IncidentCreateInput(IncidentFieldsInput):
    call_type = serializers.CharField(max_length=20, help_text="Local call-type code, e.g. SUICTHRT.")
    priority = serializers.IntegerField(min_value=0, max_value=10)
    address = serializers.CharField(max_length=300)


def _validated(serializer: serializers.Serializer[Any]) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- incidents --------------------------------------------------------------------------------------


class IncidentListApi(APIView):
    """Incidents newest first, filtered; dispatchers also create incidents by hand (POST)."""

    class Filters(serializers.Serializer[Any]):
        status = serializers.MultipleChoiceField(choices=Incident.Status.choices, required=False)
        open = serializers.BooleanField(required=False, allow_null=True, default=None)
        received_from = AwareDateTimeField(required=False)
        received_to = AwareDateTimeField(required=False)
        # Bounded to the database's integer: a larger id is a 400, not an OverflowError on SQLite.
        team = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
        call_type = serializers.CharField(max_length=20, required=False)
        behavioral_health = serializers.BooleanField(required=False, allow_null=True, default=None)

    def get_permissions(self) -> list[Any]:
        return [DISPATCHERS() if self.request.method == "POST" else READERS()]

    pagination_class = Pagination  # the schema documents the page envelope (count/next/previous/results)

    @extend_schema(parameters=[Filters], responses=IncidentOutput(many=True))
    def get(self, request: Request) -> Response:
        user = request_user(request)
        params = self.Filters(data={k: request.query_params.getlist(k) if k == "status" else v
                                    for k, v in request.query_params.items()})  # fmt: skip
        f = _validated(params)
        qs = incident_list(
            user=user,
            filters=IncidentFilters(
                status=sorted(f["status"]) if f.get("status") else None,
                open=f.get("open"),
                received_from=f.get("received_from"),
                received_to=f.get("received_to"),
                team_id=f.get("team"),
                call_type=f.get("call_type"),
                behavioral_health=f.get("behavioral_health"),
            ),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(
            IncidentOutput(page or [], many=True, context=viewer_context(user)).data
        )

    @extend_schema(request=IncidentCreateInput, responses={201: IncidentDetailOutput})
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        values = _validated(IncidentCreateInput(data=request.data))
        incident = services.incident_create(by=request_user(request), values=values)
        return _detail(request, incident.pk, code=status.HTTP_201_CREATED)


class ClosedIncidentOutput(IncidentOutput):
    """A closed call: the incident as the viewer may see it, the team that had it, its dispositions."""

    team = serializers.SerializerMethodField()
    dispositions = serializers.SerializerMethodField()

    @extend_schema_field(TeamRefOutput(allow_null=True))
    def get_team(self, incident: Incident) -> dict[str, Any] | None:
        rows: list[Assignment] = getattr(incident, "all_assignments", [])
        served = next((a for a in rows if a.status == Assignment.Status.CLEARED), rows[0] if rows else None)
        return {"id": served.team.pk, "call_sign": served.team.call_sign} if served else None

    @extend_schema_field(
        inline_serializer(
            "ClosedIncidentDisposition", {"code": serializers.CharField(), "label": serializers.CharField()}, many=True
        )
    )
    def get_dispositions(self, incident: Incident) -> list[dict[str, str]]:
        words: dict[str, str] = self.context.get("disposition_labels", {})
        codes: dict[int, list[str]] = self.context.get("dispositions", {})
        return [{"code": c, "label": words.get(c, c)} for c in codes.get(incident.pk, [])]


class IncidentClosedListApi(APIView):
    """Closed calls, most recently closed first, searched by received date (local days), CAD number,
    address, team call sign and disposition code; paginated. The same readers and field filtering as
    the open incidents."""

    permission_classes = [READERS]
    pagination_class = Pagination

    class Filters(serializers.Serializer[Any]):
        date_from = serializers.DateField(required=False, help_text="Received on or after this local day.")
        date_to = serializers.DateField(required=False, help_text="Received on or before this local day.")
        cad_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
        address = serializers.CharField(max_length=300, required=False, allow_blank=True)
        team = serializers.CharField(max_length=20, required=False, allow_blank=True, help_text="Call sign, e.g. CR-1.")
        disposition = serializers.CharField(
            max_length=40, required=False, allow_blank=True, help_text="Program disposition code, e.g. arrest."
        )

        def validate_disposition(self, value: str) -> str:
            if value and not DispositionCode.objects.filter(program_code=value).exists():
                raise serializers.ValidationError(f"Unknown disposition code {value!r}.")
            return value

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            start, end = attrs.get("date_from"), attrs.get("date_to")
            if start and end and end < start:
                raise serializers.ValidationError({"date_to": ["Must be on or after the first day (Received from)."]})
            return attrs

    @extend_schema(parameters=[Filters], responses=ClosedIncidentOutput(many=True))
    def get(self, request: Request) -> Response:
        user = request_user(request)
        f = _validated(self.Filters(data=request.query_params))
        qs = incident_closed_list(
            user=user,
            filters=ClosedFilters(
                date_from=f.get("date_from"),
                date_to=f.get("date_to"),
                cad_number=f.get("cad_number", "").strip(),
                address=f.get("address", "").strip(),
                team=f.get("team", "").strip(),
                disposition=f.get("disposition", ""),
            ),
        )
        paginator = Pagination()
        page = list(paginator.paginate_queryset(qs, request, view=self) or [])
        for incident in page:  # what IncidentOutput reads as the active assignment, without a query each
            incident.active_assignments = [  # type: ignore[attr-defined]
                a for a in getattr(incident, "all_assignments", []) if a.status in Assignment.ACTIVE
            ]
        context = viewer_context(user) | {
            "dispositions": dispositions_of([i.pk for i in page]),
            "disposition_labels": dict(DispositionCode.objects.values_list("program_code", "label")),
        }
        return paginator.get_paginated_response(ClosedIncidentOutput(page, many=True, context=context).data)


class IncidentDetailApi(APIView):
    def get_permissions(self) -> list[Any]:
        return [DISPATCHERS() if self.request.method == "PATCH" else READERS()]

    @extend_schema(responses=IncidentDetailOutput)
    def get(self, request: Request, incident_id: int) -> Response:
        return _detail(request, incident_id)

    @extend_schema(request=IncidentFieldsInput, responses=IncidentDetailOutput)
    @idempotent(required=False)
    def patch(self, request: Request, incident_id: int) -> Response:
        values = _validated(IncidentFieldsInput(data=request.data))
        services.incident_update(incident_id=incident_id, by=request_user(request), values=values)
        return _detail(request, incident_id)


class IncidentTriageApi(APIView):
    permission_classes = [DISPATCHERS]

    class Input(serializers.Serializer[Any]):
        coresponse_eligible = serializers.BooleanField()
        eligibility_reason = serializers.CharField(max_length=300)
        outcome = serializers.ChoiceField(choices=Incident.TriageOutcome.choices)
        not_served_reason = serializers.ChoiceField(
            choices=Incident.NotServedReason.choices, required=False, allow_blank=True, default=""
        )
        not_served_note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema(request=Input, responses=IncidentDetailOutput)
    @idempotent(required=False)
    def post(self, request: Request, incident_id: int) -> Response:
        v = _validated(self.Input(data=request.data))
        services.incident_triage(
            incident_id=incident_id,
            by=request_user(request),
            eligible=v["coresponse_eligible"],
            eligibility_reason=v["eligibility_reason"],
            outcome=v["outcome"],
            not_served_reason=v["not_served_reason"],
            not_served_note=v["not_served_note"],
        )
        return _detail(request, incident_id)


class IncidentRecommendationsApi(APIView):
    """On-duty teams for this incident: available first, then conditionally available, then busy."""

    permission_classes = [DISPATCHERS]

    class Output(serializers.Serializer[Any]):
        team = TeamRefOutput(source="duty.team")
        status = serializers.CharField(source="duty.status")
        shift_id = serializers.IntegerField(source="duty.shift.id")
        shift_ends_at = serializers.DateTimeField(source="duty.shift.ends_at")
        members = serializers.SerializerMethodField()
        current_assignment = serializers.SerializerMethodField()
        last_cleared_at = serializers.DateTimeField(source="duty.last_cleared_at", allow_null=True)
        minutes_since_clear = serializers.IntegerField(allow_null=True)

        @extend_schema_field(
            inline_serializer(
                "RecommendationMember",
                {
                    "id": serializers.IntegerField(),
                    "full_name": serializers.CharField(),
                    "role": serializers.CharField(),
                },
                many=True,
            )
        )
        def get_members(self, rec: Any) -> list[dict[str, Any]]:
            return [{"id": m.user_id, "full_name": m.user.display_name, "role": m.role} for m in rec.duty.members]

        @extend_schema_field(
            inline_serializer(
                "RecommendationAssignment",
                {
                    "id": serializers.IntegerField(),
                    "incident_id": serializers.IntegerField(),
                    "status": serializers.CharField(),
                    "priority": serializers.IntegerField(),
                },
                allow_null=True,
            )
        )
        def get_current_assignment(self, rec: Any) -> dict[str, Any] | None:
            a = rec.current_assignment
            if a is None:
                return None
            return {"id": a.pk, "incident_id": a.incident_id, "status": a.status, "priority": a.incident.priority}

    @extend_schema(responses=Output(many=True))
    def get(self, request: Request, incident_id: int) -> Response:
        recs = incident_recommendations(incident_id=incident_id, user=request_user(request))
        return Response(self.Output(recs, many=True).data)


# GET teams/on-duty/ is served here, not by apps.shifts: the status comes from the teams' assignments.
class OnDutyApi(APIView):
    """Teams on duty now (or at ``at``), with members and primary status."""

    permission_classes = [HasRole.of(*OPERATIONS_ROLES)]

    class Filters(serializers.Serializer[Any]):
        at = AwareDateTimeField(required=False)

    @extend_schema_serializer(component_name="OnDutyTeam")  # "Output" alone collides with other apis
    class Output(serializers.Serializer[Any]):
        team = ShiftTeamRefOutput()
        shift_id = serializers.IntegerField(source="shift.id")
        starts_at = serializers.DateTimeField(source="shift.starts_at")
        ends_at = serializers.DateTimeField(source="shift.ends_at")
        status = serializers.CharField()
        members = MemberOutput(many=True)

    @extend_schema(parameters=[Filters], responses=Output(many=True))
    def get(self, request: Request) -> Response:
        filters = self.Filters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(self.Output(team_availability(at=filters.validated_data.get("at")), many=True).data)


class IncidentBoardApi(APIView):
    """Open incidents by priority (highest first) and age (oldest first), with their assignment state."""

    permission_classes = [DISPATCHERS]
    pagination_class = Pagination

    @extend_schema(responses=IncidentOutput(many=True))
    def get(self, request: Request) -> Response:
        user = request_user(request)
        qs = incident_board(user=user)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(
            IncidentOutput(page or [], many=True, context=viewer_context(user)).data
        )


# --- assignments ------------------------------------------------------------------------------------


class _TeamInput(serializers.Serializer[Any]):
    team = serializers.IntegerField(min_value=1)


class IncidentOfferApi(APIView):
    """Offer the incident to an on-duty team (creates an assignment in status ``offered``)."""

    permission_classes = [DISPATCHERS]

    @extend_schema(request=_TeamInput, responses={201: AssignmentOutput})
    @idempotent(required=False)
    def post(self, request: Request, incident_id: int) -> Response:
        v = _validated(_TeamInput(data=request.data))
        a = services.assignment_offer(incident_id=incident_id, team_id=v["team"], by=request_user(request))
        return Response(AssignmentOutput(a).data, status=status.HTTP_201_CREATED)


class IncidentReassignApi(APIView):
    """Cancel the current assignment (kept in history) and offer the incident to another team."""

    permission_classes = [DISPATCHERS]

    class Input(_TeamInput):
        reason = serializers.CharField(max_length=300)

    @extend_schema(request=Input, responses={201: AssignmentOutput})
    @idempotent(required=False)
    def post(self, request: Request, incident_id: int) -> Response:
        v = _validated(self.Input(data=request.data))
        a = services.assignment_reassign(
            incident_id=incident_id, team_id=v["team"], by=request_user(request), reason=v["reason"]
        )
        return Response(AssignmentOutput(a).data, status=status.HTTP_201_CREATED)


class AssignmentInboxApi(APIView):
    """My team's offered and active assignments, with the incident as I may see it."""

    permission_classes = [FIELD_AND_DISPATCH]

    class Output(AssignmentOutput):
        incident = serializers.SerializerMethodField()

        @extend_schema_field(IncidentOutput)
        def get_incident(self, a: Assignment) -> dict[str, Any]:
            return dict(IncidentOutput(a.incident, context=self.context).data)

    @extend_schema(responses=Output(many=True))
    def get(self, request: Request) -> Response:
        user = request_user(request)
        rows = assignment_inbox(user=user)
        ctx = viewer_context(user)
        return Response(self.Output(rows, many=True, context=ctx).data)


class _ReasonInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=300)


class AssignmentAcknowledgeApi(APIView):
    permission_classes = [FIELD_AND_DISPATCH]

    @extend_schema(request=None, responses=AssignmentOutput)
    @idempotent(required=False)
    def post(self, request: Request, assignment_id: int) -> Response:
        a = services.assignment_acknowledge(assignment_id=assignment_id, by=request_user(request))
        return Response(AssignmentOutput(a).data)


class AssignmentAcceptApi(APIView):
    permission_classes = [FIELD_AND_DISPATCH]

    @extend_schema(request=None, responses=AssignmentOutput)
    @idempotent(required=False)
    def post(self, request: Request, assignment_id: int) -> Response:
        a = services.assignment_accept(assignment_id=assignment_id, by=request_user(request))
        return Response(AssignmentOutput(a).data)


class AssignmentDeclineApi(APIView):
    permission_classes = [FIELD_AND_DISPATCH]

    @extend_schema(request=_ReasonInput, responses=AssignmentOutput)
    @idempotent(required=False)
    def post(self, request: Request, assignment_id: int) -> Response:
        v = _validated(_ReasonInput(data=request.data))
        a = services.assignment_decline(assignment_id=assignment_id, by=request_user(request), reason=v["reason"])
        return Response(AssignmentOutput(a).data)


class AssignmentStatusApi(APIView):
    """en_route, on_scene, transporting, at_facility, cleared: one member's update applies to the pair."""

    permission_classes = [FIELD_AND_DISPATCH]

    class Input(serializers.Serializer[Any]):
        status = serializers.ChoiceField(choices=[str(s) for s in services.FIELD_STATUSES])

    @extend_schema(request=Input, responses=AssignmentOutput)
    @idempotent(required=False)
    def post(self, request: Request, assignment_id: int) -> Response:
        v = _validated(self.Input(data=request.data))
        a = services.assignment_status_update(assignment_id=assignment_id, by=request_user(request), status=v["status"])
        return Response(AssignmentOutput(a).data)


class AssignmentCancelApi(APIView):
    permission_classes = [DISPATCHERS]

    @extend_schema(request=_ReasonInput, responses=AssignmentOutput)
    @idempotent(required=False)
    def post(self, request: Request, assignment_id: int) -> Response:
        v = _validated(_ReasonInput(data=request.data))
        a = services.assignment_cancel(assignment_id=assignment_id, by=request_user(request), reason=v["reason"])
        return Response(AssignmentOutput(a).data)
