"""Clinical API: parse, call one service or selector, shape output (apps/clinical/serializers.py).

Every write needs an ``Idempotency-Key`` header (apps/core/idempotency.py); edits of existing
records carry ``revision`` (stale → 409 with the server's version in ``current``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import HasRole, request_user
from apps.core.errors import Conflict, Invalid
from apps.core.fields import AwareDateTimeField
from apps.core.idempotency import idempotent
from apps.core.timefmt import local_datetime

from . import cssrs, selectors, services
from .models import Addendum, ClinicalNote, Disposition, Encounter, IvcRecord, Person
from .officer_section import OFFICER_SECTION_FIELDS, OfficerField
from .policy import ENCOUNTER_READERS, PERSON_READERS, Actor
from .serializers import (
    EncounterListOutput,
    EncounterOutput,
    NoteOutput,
    PersonOutput,
    encounter_data,
    encounter_summary,
    note_data,
    person_data,
)


def _actor(request: Request) -> Actor:
    return Actor.from_request(request, request_user(request))


def _parse(serializer_class: type[serializers.Serializer[Any]], data: Any, *, strict: bool = True) -> dict[str, Any]:
    """Validate ``data``; with ``strict`` unknown keys are refused (a typo must not be silently dropped)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    if strict and isinstance(data, dict):
        unknown = sorted(set(data) - set(serializer.fields))
        if unknown:
            raise Invalid("Unknown fields.", errors={k: ["Unknown field."] for k in unknown})
    return dict(serializer.validated_data)


class StaleConflict(Conflict):
    """409 for a stale revision. ``current`` is read after the write's rollback (the idempotency
    wrapper calls ``after_rollback``), so it is the committed version and its read stays logged."""

    def __init__(self, stale: services.StaleRevision, build_current: Callable[[], Any]) -> None:
        super().__init__(stale.message, errors=stale.errors, current=None)
        self._build_current = build_current

    def after_rollback(self) -> None:
        self.extra["current"] = self._build_current()


def _stale_as_conflict(build_current: Callable[[], Any], fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except services.StaleRevision as exc:
        raise StaleConflict(exc, build_current) from exc


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanField(serializers.Field):  # type: ignore[type-arg]
    """JSON true/false only ("yes", 1, "true" are refused: a screener answer must be unambiguous)."""

    default_error_messages = {"invalid": "Must be true or false (JSON boolean)."}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid")
        raise AssertionError  # unreachable: fail() raises

    def to_representation(self, value: Any) -> Any:
        return value


TEXT_LIMIT = services.MAX_SECTION_CHARS


# --- persons ----------------------------------------------------------------------------------------


class PersonInput(serializers.Serializer[Any]):
    id = serializers.UUIDField(required=False)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    aliases = serializers.ListField(child=serializers.CharField(max_length=200), max_length=20, required=False)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    sex = serializers.ChoiceField(choices=Person.Sex.choices, required=False)
    race = serializers.CharField(max_length=64, required=False, allow_blank=True)
    ethnicity = serializers.CharField(max_length=64, required=False, allow_blank=True)
    veteran_status = serializers.ChoiceField(choices=Person.Veteran.choices, required=False)
    housing_status = serializers.ChoiceField(choices=Person.Housing.choices, required=False)
    preferred_language = serializers.CharField(max_length=64, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    preferred_contact = serializers.ChoiceField(choices=Person.PreferredContact.choices, required=False)
    contact_consent = serializers.ChoiceField(choices=Person.ContactConsent.choices, required=False)

    def validate_phone(self, value: str) -> str:
        """A number a navigator can dial: digits with the usual separators, 7 to 15 digits (E.164)."""
        value = value.strip()
        if not value:
            return value
        digits = sum(ch.isdigit() for ch in value)
        if any(not (ch.isdigit() or ch in "+-(). ") for ch in value) or not 7 <= digits <= 15:
            raise serializers.ValidationError("Not a phone number: use digits (7 to 15), spaces, +, -, ( ).")
        return value


class PersonUpdateInput(PersonInput):
    revision = serializers.IntegerField(min_value=1)


class PersonMatchOutput(PersonOutput):
    score = serializers.FloatField(help_text="Name similarity, 0 to 1.")

    class Meta(PersonOutput.Meta):
        fields = [*PersonOutput.Meta.fields, "score"]


class PersonListApi(APIView):
    permission_classes = [HasRole.of(*PERSON_READERS)]

    class SearchInput(serializers.Serializer[Any]):
        q = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        dob = serializers.DateField(required=False, allow_null=True, default=None)

    @extend_schema(
        operation_id="clinical_persons_search",
        parameters=[SearchInput],
        responses=inline_serializer("PersonSearch", {"results": PersonMatchOutput(many=True)}),
    )
    def get(self, request: Request) -> Response:
        params = _parse(self.SearchInput, request.query_params.dict(), strict=False)
        matches = selectors.person_search(actor=_actor(request), q=params["q"], dob=params["dob"])
        return Response(
            {"results": [{**PersonOutput(m.person).data, "score": m.score} for m in matches]},
        )

    @extend_schema(request=PersonInput, responses={201: PersonOutput})
    @idempotent()
    def post(self, request: Request) -> Response:
        data = _parse(PersonInput, request.data)
        person = services.person_create(actor=_actor(request), data=data, person_id=data.pop("id", None))
        return Response(PersonOutput(person).data, status=status.HTTP_201_CREATED)


class PersonDetailApi(APIView):
    permission_classes = [HasRole.of(*PERSON_READERS)]

    @extend_schema(responses=PersonOutput)
    def get(self, request: Request, person_id: uuid.UUID) -> Response:
        return Response(person_data(selectors.person_get(actor=_actor(request), person_id=person_id)))

    @extend_schema(request=PersonUpdateInput, responses=PersonOutput)
    @idempotent()
    def patch(self, request: Request, person_id: uuid.UUID) -> Response:
        data = _parse(PersonUpdateInput, request.data)
        data.pop("id", None)
        revision = data.pop("revision")
        person = _stale_as_conflict(
            lambda: PersonOutput(Person.objects.get(pk=person_id)).data,
            lambda: services.person_update(actor=_actor(request), person_id=person_id, revision=revision, data=data),
        )
        return Response(PersonOutput(person).data)


class PersonMergeApi(APIView):
    permission_classes = [HasRole.of(*PERSON_READERS)]

    class Input(serializers.Serializer[Any]):
        duplicate_id = serializers.UUIDField()
        reason = serializers.CharField(max_length=500)

    @extend_schema(request=Input, responses=PersonOutput)
    @idempotent()
    def post(self, request: Request, person_id: uuid.UUID) -> Response:
        data = _parse(self.Input, request.data)
        person = services.person_merge(
            actor=_actor(request), survivor_id=person_id, duplicate_id=data["duplicate_id"], reason=data["reason"]
        )
        return Response(PersonOutput(person).data)


# --- encounters -------------------------------------------------------------------------------------


def _encounter_out(request: Request, encounter_id: uuid.UUID) -> dict[str, Any]:
    """The encounter as this user sees it, after a write. Logged as a read as well: the answer
    carries more than the write touched (other notes, screens)."""
    return encounter_data(selectors.encounter_get(actor=_actor(request), encounter_id=encounter_id))


class EncounterListApi(APIView):
    permission_classes = [HasRole.of(*ENCOUNTER_READERS)]

    class Input(serializers.Serializer[Any]):
        id = serializers.UUIDField()
        kind = serializers.ChoiceField(choices=Encounter.Kind.choices)
        person_id = serializers.UUIDField(required=False, allow_null=True)
        team_id = serializers.IntegerField(required=False, allow_null=True)
        officer_id = serializers.IntegerField(required=False, allow_null=True)
        incident_id = serializers.IntegerField(required=False, allow_null=True)
        started_at = AwareDateTimeField(required=False)

    @extend_schema(operation_id="clinical_encounters_list", responses={200: EncounterListOutput})
    def get(self, request: Request) -> Response:
        person_id = request.query_params.get("person")
        try:
            pid = uuid.UUID(person_id) if person_id else None
        except ValueError as exc:
            raise Invalid("Invalid person id.", errors={"person": ["Must be a UUID."]}) from exc
        views = selectors.encounter_list(
            actor=_actor(request), person_id=pid, open_only=request.query_params.get("open") == "1"
        )
        return Response({"results": [encounter_summary(v) for v in views]})

    @extend_schema(request=Input, responses={201: EncounterOutput})
    @idempotent()
    def post(self, request: Request) -> Response:
        data = _parse(self.Input, request.data)
        encounter = services.encounter_create(
            actor=_actor(request),
            encounter_id=data["id"],
            kind=data["kind"],
            person_id=data.get("person_id"),
            team_id=data.get("team_id"),
            officer_id=data.get("officer_id"),
            incident_id=data.get("incident_id"),
            started_at=data.get("started_at"),
        )
        return Response(_encounter_out(request, encounter.pk), status=status.HTTP_201_CREATED)


class EncounterDetailApi(APIView):
    class UpdateInput(serializers.Serializer[Any]):
        revision = serializers.IntegerField(min_value=1)
        person_id = serializers.UUIDField(required=False, allow_null=True)
        arrest_diverted = serializers.BooleanField(required=False)
        ed_diverted = serializers.BooleanField(required=False)
        closed_at = AwareDateTimeField(required=False, allow_null=True)

    @extend_schema(responses={200: EncounterOutput})
    def get(self, request: Request, encounter_id: uuid.UUID) -> Response:
        return Response(encounter_data(selectors.encounter_get(actor=_actor(request), encounter_id=encounter_id)))

    @extend_schema(request=UpdateInput, responses={200: EncounterOutput})
    @idempotent()
    def patch(self, request: Request, encounter_id: uuid.UUID) -> Response:
        data = _parse(self.UpdateInput, request.data)
        revision = data.pop("revision")
        _stale_as_conflict(
            lambda: _encounter_out(request, encounter_id),
            lambda: services.encounter_update(
                actor=_actor(request), encounter_id=encounter_id, revision=revision, data=data
            ),
        )
        return Response(_encounter_out(request, encounter_id))


# --- notes ------------------------------------------------------------------------------------------


class NoteContentInput(serializers.Serializer[Any]):
    sections = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=TEXT_LIMIT), required=False
    )
    diagnoses = serializers.ListField(child=serializers.CharField(max_length=500), max_length=50, required=False)
    medications = serializers.ListField(child=serializers.CharField(max_length=500), max_length=50, required=False)
    substance_use = serializers.CharField(allow_blank=True, max_length=TEXT_LIMIT, required=False)
    safety_precautions = serializers.DictField(child=StrictBooleanField(), required=False)


class NoteCreateInput(NoteContentInput):
    id = serializers.UUIDField()
    format = serializers.ChoiceField(choices=ClinicalNote.Format.choices)


class NoteUpdateInput(NoteContentInput):
    revision = serializers.IntegerField(min_value=1)


def _note_out(request: Request, note_id: uuid.UUID, *, audit: bool = False) -> dict[str, Any]:
    """The note as this user sees it: after a write (the write is logged), or audited for a 409."""
    note, view = selectors.note_get(actor=_actor(request), note_id=note_id, audit=audit)
    return note_data(note, view.categories)


class EncounterNotesApi(APIView):
    @extend_schema(request=NoteCreateInput, responses={201: NoteOutput})
    @idempotent()
    def post(self, request: Request, encounter_id: uuid.UUID) -> Response:
        data = _parse(NoteCreateInput, request.data)
        note_id, fmt = data.pop("id"), data.pop("format")
        note = services.note_create(
            actor=_actor(request), encounter_id=encounter_id, note_id=note_id, fmt=fmt, data=data
        )
        return Response(_note_out(request, note.pk), status=status.HTTP_201_CREATED)


class NoteDetailApi(APIView):
    @extend_schema(responses={200: NoteOutput})
    def get(self, request: Request, note_id: uuid.UUID) -> Response:
        note, view = selectors.note_get(actor=_actor(request), note_id=note_id)
        return Response(note_data(note, view.categories))

    @extend_schema(request=NoteUpdateInput, responses={200: NoteOutput})
    @idempotent()
    def patch(self, request: Request, note_id: uuid.UUID) -> Response:
        data = _parse(NoteUpdateInput, request.data)
        revision = data.pop("revision")
        _stale_as_conflict(
            lambda: _note_out(request, note_id, audit=True),
            lambda: services.note_update(actor=_actor(request), note_id=note_id, revision=revision, data=data),
        )
        return Response(_note_out(request, note_id))


class NoteSignApi(APIView):
    class Input(serializers.Serializer[Any]):
        revision = serializers.IntegerField(min_value=1)

    @extend_schema(request=Input, responses={200: NoteOutput})
    @idempotent()
    def post(self, request: Request, note_id: uuid.UUID) -> Response:
        data = _parse(self.Input, request.data)
        _stale_as_conflict(
            lambda: _note_out(request, note_id, audit=True),
            lambda: services.note_sign(actor=_actor(request), note_id=note_id, revision=data["revision"]),
        )
        return Response(_note_out(request, note_id))


class NoteCosignApi(APIView):
    @extend_schema(request=None, responses={200: NoteOutput})
    @idempotent()
    def post(self, request: Request, note_id: uuid.UUID) -> Response:
        services.note_cosign(actor=_actor(request), note_id=note_id)
        return Response(_note_out(request, note_id))


class NoteAddendaApi(APIView):
    class Input(serializers.Serializer[Any]):
        id = serializers.UUIDField()
        kind = serializers.ChoiceField(choices=Addendum.Kind.choices)
        reason = serializers.CharField(max_length=500, allow_blank=True)
        text = serializers.CharField(max_length=TEXT_LIMIT)

    @extend_schema(request=Input, responses={201: NoteOutput})
    @idempotent()
    def post(self, request: Request, note_id: uuid.UUID) -> Response:
        data = _parse(self.Input, request.data)
        services.addendum_create(
            actor=_actor(request),
            note_id=note_id,
            addendum_id=data["id"],
            kind=data["kind"],
            reason=data["reason"],
            text=data["text"],
        )
        return Response(_note_out(request, note_id), status=status.HTTP_201_CREATED)


# --- screen, safety plan, dispositions, IVC, officer section, break-glass ---------------------------


class ScreenInput(serializers.Serializer[Any]):
    q1_wish_dead = StrictBooleanField(allow_null=True, required=False, default=None)
    q2_active_thoughts = StrictBooleanField(allow_null=True, required=False, default=None)
    q3_method = StrictBooleanField(allow_null=True, required=False, default=None)
    q4_intent = StrictBooleanField(allow_null=True, required=False, default=None)
    q5_plan = StrictBooleanField(allow_null=True, required=False, default=None)
    q6_behavior = StrictBooleanField(allow_null=True, required=False, default=None)
    q6a_past_3_months = StrictBooleanField(allow_null=True, required=False, default=None)
    override_risk = serializers.ChoiceField(choices=cssrs.RISK_ORDER, required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class EncounterScreensApi(APIView):
    @extend_schema(request=ScreenInput, responses={201: EncounterOutput})
    @idempotent()
    def post(self, request: Request, encounter_id: uuid.UUID) -> Response:
        data = _parse(ScreenInput, request.data)
        answers = cssrs.Answers(**{q: data.get(q) for q in cssrs.QUESTIONS})
        services.screen_record(
            actor=_actor(request),
            encounter_id=encounter_id,
            answers=answers,
            override_risk=data["override_risk"],
            override_reason=data["override_reason"],
        )
        return Response(_encounter_out(request, encounter_id), status=status.HTTP_201_CREATED)


class EncounterSafetyPlansApi(APIView):
    class Input(serializers.Serializer[Any]):
        id = serializers.UUIDField()
        warning_signs = serializers.CharField(max_length=5000, required=False, allow_blank=True)
        internal_coping = serializers.CharField(max_length=5000, required=False, allow_blank=True)
        distraction_people_places = serializers.CharField(max_length=5000, required=False, allow_blank=True)
        help_contacts = serializers.CharField(max_length=5000, required=False, allow_blank=True)
        professionals_agencies = serializers.CharField(max_length=5000, required=False, allow_blank=True)
        environment_safety = serializers.CharField(max_length=5000, required=False, allow_blank=True)
        lethal_means_counselling_done = StrictBooleanField(required=False, default=False)

    @extend_schema(request=Input, responses={201: EncounterOutput})
    @idempotent()
    def post(self, request: Request, encounter_id: uuid.UUID) -> Response:
        data = _parse(self.Input, request.data)
        plan_id = data.pop("id")
        services.safety_plan_create(actor=_actor(request), encounter_id=encounter_id, plan_id=plan_id, data=data)
        return Response(_encounter_out(request, encounter_id), status=status.HTTP_201_CREATED)


class EncounterDispositionsApi(APIView):
    class Input(serializers.Serializer[Any]):
        code = serializers.ChoiceField(choices=Disposition.Code.choices)

    @extend_schema(request=Input, responses={201: EncounterOutput})
    @idempotent()
    def post(self, request: Request, encounter_id: uuid.UUID) -> Response:
        data = _parse(self.Input, request.data)
        services.disposition_add(actor=_actor(request), encounter_id=encounter_id, code=data["code"])
        return Response(_encounter_out(request, encounter_id), status=status.HTTP_201_CREATED)


class EncounterIvcApi(APIView):
    class Input(serializers.Serializer[Any]):
        revision = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
        pathway = serializers.ChoiceField(choices=IvcRecord.Pathway.choices, required=False)
        petitioner_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
        petitioner_relationship = serializers.CharField(max_length=100, required=False, allow_blank=True)
        petition_at = AwareDateTimeField(required=False, allow_null=True)
        custody_order_at = AwareDateTimeField(required=False, allow_null=True)
        custody_taken_at = AwareDateTimeField(required=False, allow_null=True)
        first_exam_at = AwareDateTimeField(required=False, allow_null=True)
        outcome = serializers.ChoiceField(choices=IvcRecord.Outcome.choices, required=False)

    @extend_schema(request=Input, responses={200: EncounterOutput})
    @idempotent()
    def put(self, request: Request, encounter_id: uuid.UUID) -> Response:
        data = _parse(self.Input, request.data)
        revision = data.pop("revision")
        _stale_as_conflict(
            lambda: _encounter_out(request, encounter_id).get("ivc"),
            lambda: services.ivc_save(actor=_actor(request), encounter_id=encounter_id, revision=revision, data=data),
        )
        return Response(_encounter_out(request, encounter_id))


def _officer_input_field(spec: OfficerField) -> serializers.Field:  # type: ignore[type-arg]
    if spec.kind == "choice":
        return serializers.ChoiceField(choices=list(spec.choices), required=False)
    if spec.kind == "boolean":
        return StrictBooleanField(required=False)
    return serializers.CharField(max_length=spec.max_length, required=False, allow_blank=True)


# Built from the one field list (apps/clinical/officer_section.py); named like a nested ``Input``.
_OfficerSectionInput = cast(
    "type[serializers.Serializer[Any]]",
    type(
        "Input",
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "__qualname__": "EncounterOfficerSectionApi.Input",
            "revision": serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None),
            **{spec.name: _officer_input_field(spec) for spec in OFFICER_SECTION_FIELDS},
        },
    ),
)


class EncounterOfficerSectionApi(APIView):
    Input = _OfficerSectionInput

    @extend_schema(request=Input, responses={200: EncounterOutput})
    @idempotent()
    def put(self, request: Request, encounter_id: uuid.UUID) -> Response:
        data = _parse(self.Input, request.data)
        revision = data.pop("revision")
        _stale_as_conflict(
            lambda: _encounter_out(request, encounter_id).get("officer_section"),
            lambda: services.officer_section_save(
                actor=_actor(request), encounter_id=encounter_id, revision=revision, data=data
            ),
        )
        return Response(_encounter_out(request, encounter_id))


class EncounterBreakGlassApi(APIView):
    class Input(serializers.Serializer[Any]):
        reason = serializers.CharField(max_length=500, allow_blank=True)

    @extend_schema(request=Input, responses={201: dict})
    @idempotent()
    def post(self, request: Request, encounter_id: uuid.UUID) -> Response:
        data = _parse(self.Input, request.data)
        grant = services.break_glass_open(actor=_actor(request), encounter_id=encounter_id, reason=data["reason"])
        return Response(
            {
                "id": grant.pk,
                "encounter_id": str(grant.encounter_id),
                "expires_at": serializers.DateTimeField().to_representation(grant.expires_at),
            },
            status=status.HTTP_201_CREATED,
        )


class EncounterExportApi(APIView):
    """De-identified encounter export (no names, ids, narrative or Part 2): supervisors (analysts use insights)."""

    permission_classes = [HasRole.of(*selectors.EXPORT_ROLES)]

    class Params(serializers.Serializer[Any]):
        start = serializers.DateField(help_text="First local day (inclusive).")
        end = serializers.DateField(help_text="Last local day (exclusive).")

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["end"] <= attrs["start"]:
                raise serializers.ValidationError({"end": "Must be after the start date."})
            if (attrs["end"] - attrs["start"]).days > 400:
                raise serializers.ValidationError({"end": "At most 400 days per export."})
            return attrs

    @extend_schema(parameters=[Params], responses={200: dict})
    def get(self, request: Request) -> Response:
        params = _parse(self.Params, request.query_params.dict(), strict=False)
        start = local_datetime(params["start"], dt.time.min)
        end = local_datetime(params["end"], dt.time.min)
        return Response(selectors.encounters_export(actor=_actor(request), start=start, end=end))
