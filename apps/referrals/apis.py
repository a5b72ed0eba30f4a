"""Referrals and care-navigation API: parse, call one service or selector, shape output.

Every write needs an ``Idempotency-Key`` header (apps/core/idempotency.py), so the PWA outbox can
retry safely; a referral may also carry a client-generated UUID ``id`` for offline creation.
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.accounts.permissions import HasRole, request_user
from apps.clinical.models import Person
from apps.clinical.policy import ENCOUNTER_READERS, Actor
from apps.core.errors import Invalid
from apps.core.fields import AwareDateTimeField
from apps.core.idempotency import idempotent
from apps.core.pagination import Pagination

from . import selectors, services
from .models import Agency, FollowUp, FollowUpAttempt, Referral, ReferralType
from .policy import QUEUE_ROLES, SUPERVISOR_ROLES, WRITER_ROLES


def _actor(request: Request) -> Actor:
    return Actor.from_request(request, request_user(request))


def _parse(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    """Validate ``data``; unknown keys are refused (a typo must not be silently dropped)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    if hasattr(data, "keys"):
        unknown = sorted(set(data.keys()) - set(serializer.fields))
        if unknown:
            raise Invalid("Unknown fields.", errors={k: ["Unknown field."] for k in unknown})
    return dict(serializer.validated_data)


# --- output shapes ---------------------------------------------------------------------------------


def referral_data(referral: Referral, *, user: User, history: bool = False) -> dict[str, Any]:
    """Existence, status and timing for every operational role; the rest for clinical roles only
    (and, for a substance-use referral, only for Part 2 readers: ``restricted`` tells the others)."""
    details = selectors.referral_details_visible(user, referral.type)
    data: dict[str, Any] = {
        "id": str(referral.pk),
        "encounter_id": str(referral.encounter_id),
        "status": referral.status,
        "made_at": referral.made_at,
        "status_changed_at": referral.status_changed_at,
    }
    if selectors.shows_details(user) and not details:
        data["restricted"] = True
    if details:
        data |= {
            "person_id": str(referral.person_id),
            "type": referral.type,
            "agency": (
                {"id": referral.agency.pk, "name": referral.agency.name, "phone": referral.agency.phone}
                if referral.agency
                else None
            ),
            "notes": referral.notes,
            "status_reason": referral.status_reason,
            "scheduled_for": referral.scheduled_for,
            "made_by": {"id": referral.made_by_id, "name": referral.made_by.display_name},
        }
        if history:
            data["history"] = [
                {"from": c.from_status, "to": c.to_status, "reason": c.reason, "at": c.at, "by": c.by_id}
                for c in referral.changes.all()
            ]
    return data


def followup_data(followup: FollowUp, *, user: User, attempts: bool = True) -> dict[str, Any]:
    """A follow-up as the navigator's card shows it: whom to call and how (phone, preferred contact,
    consent), the referral with its notes and agency, and the attempts so far. Details for clinical
    roles only; a substance-use referral's details and attempt notes only for Part 2 readers."""
    details = selectors.shows_details(user)
    referral = followup.referral
    referral_type = referral.type if referral else None
    # A follow-up of a substance-use referral: its referral details and attempt notes are Part 2.
    part2_ok = referral_type is None or selectors.referral_details_visible(user, referral_type)
    data: dict[str, Any] = {
        "id": followup.pk,
        "encounter_id": str(followup.encounter_id),
        "referral_id": str(followup.referral_id) if followup.referral_id else None,
        "due_at": followup.due_at,
        "status": followup.status,
        "assignee": {"id": followup.assignee_id, "name": followup.assignee.display_name},
        "attempt_count": getattr(followup, "attempt_count", None),
        "failed_attempts": followup.failed_attempts,
        "closed_at": followup.closed_at,
    }
    if details:
        person = followup.person
        agency = referral.agency if referral else None
        data |= {
            "reason": followup.reason,
            "closed_reason": followup.closed_reason,
            "person": (
                {
                    "id": str(person.pk),
                    "name": person.display_name,
                    "phone": person.phone,
                    "preferred_contact": person.preferred_contact,
                    "contact_consent": person.contact_consent,
                }
                if person
                else None
            ),
            "referral_type": referral_type if part2_ok else None,
            "agency": agency.name if part2_ok and agency else None,
            "referral": (
                {
                    "id": str(referral.pk),
                    "type": referral.type,
                    "status": referral.status,
                    "notes": referral.notes,
                    "made_at": referral.made_at,
                    "agency": {"name": agency.name, "phone": agency.phone} if agency else None,
                }
                if referral and part2_ok
                else None
            ),
            "restricted": not part2_ok,
        }
        if attempts:
            data["attempts"] = [
                {
                    "id": a.pk,
                    "at": a.at,
                    "method": a.method,
                    "outcome": a.outcome,
                    "note": a.note if part2_ok else None,
                    "by": {"id": a.by_id, "name": a.by.display_name},
                }
                for a in followup.attempts.all()
            ]
    return data


# --- OpenAPI shapes of followup_data (the PWA's FollowUp type is generated from them) -----------------
# followup_data builds a dict by hand: the detail keys only for clinical roles. tests/test_followup_schema.py
# checks real payloads of every queue role against these, both ways.


class _NamedRef(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FollowUpPersonOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    phone = serializers.CharField()
    preferred_contact = serializers.ChoiceField(choices=Person.PreferredContact.choices)
    contact_consent = serializers.ChoiceField(choices=Person.ContactConsent.choices)


class FollowUpAgencyOutput(serializers.Serializer[Any]):
    name = serializers.CharField()
    phone = serializers.CharField()


class FollowUpReferralOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=ReferralType.choices)
    status = serializers.ChoiceField(choices=Referral.Status.choices)
    notes = serializers.CharField()
    made_at = serializers.DateTimeField()
    agency = FollowUpAgencyOutput(allow_null=True)


class FollowUpAttemptOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    method = serializers.ChoiceField(choices=FollowUpAttempt.Method.choices)
    outcome = serializers.ChoiceField(choices=FollowUpAttempt.Outcome.choices)
    note = serializers.CharField(allow_null=True)
    by = _NamedRef()


class FollowUpOutput(serializers.Serializer[Any]):
    """``followup_data``: the operational keys for every queue role; the rest for clinical roles only."""

    id = serializers.IntegerField()
    encounter_id = serializers.UUIDField()
    referral_id = serializers.UUIDField(allow_null=True)
    due_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=FollowUp.Status.choices)
    assignee = _NamedRef()
    attempt_count = serializers.IntegerField(allow_null=True)
    failed_attempts = serializers.IntegerField()
    closed_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.ChoiceField(choices=FollowUp.Reason.choices, required=False)
    closed_reason = serializers.CharField(required=False)
    person = FollowUpPersonOutput(allow_null=True, required=False)
    referral_type = serializers.ChoiceField(choices=ReferralType.choices, allow_null=True, required=False)
    agency = serializers.CharField(allow_null=True, required=False)
    referral = FollowUpReferralOutput(allow_null=True, required=False)
    restricted = serializers.BooleanField(required=False)
    attempts = FollowUpAttemptOutput(many=True, required=False)


class FollowUpPageOutput(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = FollowUpOutput(many=True)


def _followup_out(request: Request, followup_id: int) -> dict[str, Any]:
    followup, _details = selectors.followup_get(actor=_actor(request), followup_id=followup_id)
    return followup_data(followup, user=request_user(request))


def _referral_out(request: Request, referral_id: uuid.UUID) -> dict[str, Any]:
    referral, _details = selectors.referral_get(actor=_actor(request), referral_id=referral_id)
    return referral_data(referral, user=request_user(request), history=True)


# --- agencies --------------------------------------------------------------------------------------


class AgencyListApi(APIView):
    """The agency directory (active agencies), for the referral form. Edited in the admin."""

    permission_classes = [HasRole.of(*WRITER_ROLES, *SUPERVISOR_ROLES)]

    class Output(serializers.ModelSerializer[Agency]):
        class Meta:
            model = Agency
            fields = ["id", "name", "type", "phone", "email", "address", "hours"]

    @extend_schema(responses=inline_serializer("AgencyList", {"results": Output(many=True)}))
    def get(self, request: Request) -> Response:
        return Response({"results": self.Output(Agency.objects.filter(is_active=True), many=True).data})


# --- referrals -------------------------------------------------------------------------------------


class ReferralInput(serializers.Serializer[Any]):
    id = serializers.UUIDField(required=False, help_text="Client-generated, for offline creation.")
    type = serializers.ChoiceField(choices=ReferralType.choices)
    agency_id = serializers.IntegerField(required=False, allow_null=True)
    person_id = serializers.UUIDField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=services.NOTE_MAX)
    made_at = AwareDateTimeField(required=False)


def _create_referral(request: Request, data: dict[str, Any], encounter_id: uuid.UUID) -> Response:
    referral = services.referral_create(
        actor=_actor(request),
        encounter_id=encounter_id,
        referral_id=data.get("id"),
        type=data["type"],
        agency_id=data.get("agency_id"),
        person_id=data.get("person_id"),
        notes=data.get("notes", ""),
        made_at=data.get("made_at"),
    )
    return Response(_referral_out(request, referral.pk), status=status.HTTP_201_CREATED)


class ReferralListApi(APIView):
    def get_permissions(self) -> list[Any]:
        # Reading needs an encounter reader; creating, a writer as well (checked before the idempotency key).
        readers = HasRole.of(*ENCOUNTER_READERS)()
        return [readers, HasRole.of(*WRITER_ROLES)()] if self.request.method == "POST" else [readers]

    class Filters(serializers.Serializer[Any]):
        encounter = serializers.UUIDField(required=False)
        person = serializers.UUIDField(required=False)

    class Input(ReferralInput):
        encounter_id = serializers.UUIDField()

    @extend_schema(operation_id="referrals_list", parameters=[Filters], responses={200: dict})
    def get(self, request: Request) -> Response:
        filters = self.Filters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        referrals, _details = selectors.referral_list(
            actor=_actor(request),
            encounter_id=filters.validated_data.get("encounter"),
            person_id=filters.validated_data.get("person"),
        )
        user = request_user(request)
        return Response({"results": [referral_data(r, user=user) for r in referrals]})

    @extend_schema(operation_id="referrals_create", request=Input, responses={201: dict})
    @idempotent()
    def post(self, request: Request) -> Response:
        data = _parse(self.Input, request.data)
        return _create_referral(request, data, data["encounter_id"])


class EncounterReferralsApi(APIView):
    permission_classes = [HasRole.of(*WRITER_ROLES)]

    @extend_schema(
        operation_id="encounter_referrals_create",
        request=ReferralInput,
        responses={201: dict},
    )
    @idempotent()
    def post(self, request: Request, encounter_id: uuid.UUID) -> Response:
        return _create_referral(request, _parse(ReferralInput, request.data), encounter_id)


class ReferralDetailApi(APIView):
    permission_classes = [HasRole.of(*ENCOUNTER_READERS)]

    @extend_schema(operation_id="referrals_retrieve", responses={200: dict})
    def get(self, request: Request, referral_id: uuid.UUID) -> Response:
        return Response(_referral_out(request, referral_id))


class ReferralStatusApi(APIView):
    permission_classes = [HasRole.of(*WRITER_ROLES)]

    class Input(serializers.Serializer[Any]):
        status = serializers.ChoiceField(choices=Referral.Status.choices)
        reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=services.REASON_MAX)
        scheduled_for = AwareDateTimeField(required=False, allow_null=True, default=None)

    @extend_schema(request=Input, responses={200: dict})
    @idempotent()
    def post(self, request: Request, referral_id: uuid.UUID) -> Response:
        data = _parse(self.Input, request.data)
        services.referral_status_set(
            actor=_actor(request),
            referral_id=referral_id,
            status=data["status"],
            reason=data["reason"],
            scheduled_for=data["scheduled_for"],
        )
        return Response(_referral_out(request, referral_id))


# --- follow-ups ------------------------------------------------------------------------------------


class FollowUpListApi(APIView):
    """The care-navigation queue (``bucket``: due_today / overdue / upcoming in America/New_York)."""

    permission_classes = [HasRole.of(*QUEUE_ROLES)]

    class Filters(serializers.Serializer[Any]):
        bucket = serializers.ChoiceField(choices=selectors.BUCKETS, required=False)
        assignee = serializers.RegexField(r"^(me|[0-9]{1,12})$", required=False, help_text="A user id, or 'me'.")
        status = serializers.ChoiceField(choices=FollowUp.Status.choices, required=False, default="open")

    @extend_schema(operation_id="followups_list", parameters=[Filters], responses={200: FollowUpPageOutput})
    def get(self, request: Request) -> Response:
        user = request_user(request)
        filters = self.Filters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        assignee = params.get("assignee")
        assignee_id = user.pk if assignee == "me" else int(assignee) if assignee else None
        qs = selectors.followup_queue(
            user=user, bucket=params.get("bucket"), assignee_id=assignee_id, status=params["status"]
        )
        return _page(request, self, qs)


def _page(request: Request, view: APIView, qs: Any) -> Response:
    paginator = Pagination()
    page: list[FollowUp] = paginator.paginate_queryset(qs, request, view=view) or []
    actor = _actor(request)
    details = selectors.shows_details(actor.user)
    if details and page:
        selectors._log_reads(actor, "followup_list", [(f.pk, f.encounter_id, f.person_id) for f in page])
    return paginator.get_paginated_response([followup_data(f, user=actor.user) for f in page])


class FollowUpOverdueApi(APIView):
    """Supervisors: every open overdue follow-up across the program."""

    permission_classes = [HasRole.of(*SUPERVISOR_ROLES)]

    @extend_schema(operation_id="followups_overdue", responses={200: FollowUpPageOutput})
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.followups_overdue(user=request_user(request)))


class FollowUpDetailApi(APIView):
    permission_classes = [HasRole.of(*QUEUE_ROLES)]

    @extend_schema(operation_id="followups_retrieve", responses={200: FollowUpOutput})
    def get(self, request: Request, followup_id: int) -> Response:
        return Response(_followup_out(request, followup_id))


class FollowUpAttemptsApi(APIView):
    permission_classes = [HasRole.of(*WRITER_ROLES)]

    class Input(serializers.Serializer[Any]):
        method = serializers.ChoiceField(choices=FollowUpAttempt.Method.choices)
        outcome = serializers.ChoiceField(choices=FollowUpAttempt.Outcome.choices)
        at = AwareDateTimeField(required=False)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=services.NOTE_MAX)

    @extend_schema(request=Input, responses={201: FollowUpOutput})
    @idempotent()
    def post(self, request: Request, followup_id: int) -> Response:
        data = _parse(self.Input, request.data)
        services.followup_attempt_log(
            actor=_actor(request),
            followup_id=followup_id,
            method=data["method"],
            outcome=data["outcome"],
            at=data.get("at"),
            note=data["note"],
        )
        return Response(_followup_out(request, followup_id), status=status.HTTP_201_CREATED)


class FollowUpCloseApi(APIView):
    permission_classes = [HasRole.of(*WRITER_ROLES)]

    class Input(serializers.Serializer[Any]):
        reason = serializers.CharField(max_length=services.REASON_MAX)

    @extend_schema(request=Input, responses={200: FollowUpOutput})
    @idempotent()
    def post(self, request: Request, followup_id: int) -> Response:
        data = _parse(self.Input, request.data)
        services.followup_close(actor=_actor(request), followup_id=followup_id, reason=data["reason"])
        return Response(_followup_out(request, followup_id))


class FollowUpReassignApi(APIView):
    permission_classes = [HasRole.of(*SUPERVISOR_ROLES)]

    class Input(serializers.Serializer[Any]):
        assignee_id = serializers.IntegerField(min_value=1)

    @extend_schema(request=Input, responses={200: FollowUpOutput})
    @idempotent()
    def post(self, request: Request, followup_id: int) -> Response:
        data = _parse(self.Input, request.data)
        services.followup_reassign(actor=_actor(request), followup_id=followup_id, assignee_id=data["assignee_id"])
        return Response(_followup_out(request, followup_id))
