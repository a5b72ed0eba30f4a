"""Output shapes for clinical data, cut by the viewer's categories (apps/clinical/policy.py).

The API, the admin and exports build their payloads here and nowhere else, so a field a role may
not see is never put into any response. Each block states the category it needs.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from . import hooks
from .models import (
    Addendum,
    ClinicalNote,
    CssrsScreen,
    Disposition,
    Encounter,
    IvcRecord,
    OfficerSection,
    Person,
    SafetyPlan,
)
from .officer_section import OFFICER_SECTION_FIELD_NAMES
from .policy import Category
from .readiness import SAFETY_PRECAUTIONS, readiness_payload, sign_missing
from .selectors import EncounterView, PersonView
from .services import PERSON_FIELDS, note_content_hash, note_sign_facts


class PersonOutput(serializers.ModelSerializer[Person]):
    class Meta:
        model = Person
        fields = ["id", *PERSON_FIELDS, "merged_into", "revision"]


class DispositionOutput(serializers.ModelSerializer[Disposition]):
    code_label = serializers.CharField(source="get_code_display")

    class Meta:
        model = Disposition
        fields = ["id", "code", "code_label", "apco_code", "recorded_at"]


class ScreenOutput(serializers.ModelSerializer[CssrsScreen]):
    final_risk = serializers.CharField()

    class Meta:
        model = CssrsScreen
        fields = [
            "id",
            "q1_wish_dead",
            "q2_active_thoughts",
            "q3_method",
            "q4_intent",
            "q5_plan",
            "q6_behavior",
            "q6a_past_3_months",
            "computed_risk",
            "override_risk",
            "override_reason",
            "final_risk",
            "rule_version",
            "screened_by",
            "screened_at",
        ]


class SafetyPlanOutput(serializers.ModelSerializer[SafetyPlan]):
    class Meta:
        model = SafetyPlan
        fields = [
            "id",
            "person",
            "encounter",
            "warning_signs",
            "internal_coping",
            "distraction_people_places",
            "help_contacts",
            "professionals_agencies",
            "environment_safety",
            "lethal_means_counselling_done",
            "is_active",
            "created_by",
            "created_at",
        ]


class IvcOutput(serializers.ModelSerializer[IvcRecord]):
    custody_deadline = serializers.DateTimeField(allow_null=True)

    class Meta:
        model = IvcRecord
        fields = [
            "pathway",
            "petitioner_name",
            "petitioner_relationship",
            "petition_at",
            "custody_order_at",
            "custody_deadline",
            "custody_taken_at",
            "first_exam_at",
            "outcome",
            "revision",
            "updated_by",
            "updated_at",
        ]


class OfficerSectionOutput(serializers.ModelSerializer[OfficerSection]):
    class Meta:
        model = OfficerSection
        fields = [
            *OFFICER_SECTION_FIELD_NAMES,
            "revision",
            "updated_by",
            "updated_at",
        ]


class AddendumOutput(serializers.ModelSerializer[Addendum]):
    author_name = serializers.CharField(source="author.display_name")

    class Meta:
        model = Addendum
        fields = ["id", "kind", "reason", "text", "author", "author_name", "created_at"]


def _name(user: Any) -> str | None:
    return user.display_name if user is not None else None


def note_data(note: ClinicalNote, categories: frozenset[str], encounter: Encounter | None = None) -> dict[str, Any]:
    """A note for a viewer with NARRATIVE (callers never get here without it); Part 2 only with PART2.
    A draft carries its ``readiness`` (apps/clinical/readiness.py): what still stops it from being signed."""
    data: dict[str, Any] = {
        "id": str(note.pk),
        "encounter_id": str(note.encounter_id),
        "format": note.format,
        "status": note.status,
        "revision": note.revision,
        "author": note.author_id,
        "author_name": _name(note.author),
        "created_at": serializers.DateTimeField().to_representation(note.created_at),
        "updated_at": serializers.DateTimeField().to_representation(note.updated_at),
        "signed_by": note.signed_by_id,
        "signed_by_name": _name(note.signed_by),
        "signed_at": serializers.DateTimeField().to_representation(note.signed_at) if note.signed_at else None,
        "content_hash": note.content_hash,
        "cosigned_by": note.cosigned_by_id,
        "cosigned_by_name": _name(note.cosigned_by),
        "cosigned_at": serializers.DateTimeField().to_representation(note.cosigned_at) if note.cosigned_at else None,
        "safety_precautions": note.safety_precautions,
    }
    if note.is_signed:
        data["integrity_ok"] = note_content_hash(note) == note.content_hash
    else:
        data["readiness"] = readiness_payload(sign_missing(note_sign_facts(note, encounter or note.encounter)))
    if Category.NARRATIVE in categories:
        data["sections"] = note.sections
        data["diagnoses"] = note.diagnoses
        data["medications"] = note.medications
        data["addenda"] = AddendumOutput(list(note.addenda.all()), many=True).data
    if Category.PART2 in categories:
        data["substance_use"] = {
            "label": "42 CFR Part 2 protected: redisclosure prohibited without consent (42 CFR 2.32).",
            "text": note.substance_use,
        }
    return data


def risk_prompts(e: Encounter) -> list[str]:
    """What DOMAIN.md §4 asks of the clinician for the current risk level, still outstanding: a prompt
    leaves the list once the record has what it asks for (labels: ``PROMPT_LABELS``)."""
    prompts: list[str] = []
    if e.risk_level == Encounter.Risk.HIGH:
        confirmed = any(
            all((n.safety_precautions or {}).get(k) is True for k in SAFETY_PRECAUTIONS) for n in e.notes.all()
        )
        if not confirmed:
            prompts.append("safety_precautions")
        if not e.dispositions.all():
            prompts.append("disposition")
    if e.risk_level in {Encounter.Risk.MODERATE, Encounter.Risk.LOW}:
        if not e.safety_plans.all():
            prompts.append("safety_plan")
        referrals, followups = hooks.encounter_care_counts(e)
        if not referrals:
            prompts.append("referral")
        if not followups:
            prompts.append("follow_up")
    return prompts


def encounter_data(view: EncounterView) -> dict[str, Any]:
    e: Encounter = view.encounter
    cats = view.categories
    data: dict[str, Any] = {"id": str(e.pk), "revision": e.revision}
    if view.break_glass:
        data["break_glass"] = True
    if Category.OPERATIONAL in cats:
        data.update(
            kind=e.kind,
            incident_id=e.incident_id,
            team=e.team.call_sign if e.team else None,
            team_id=e.team_id,
            clinician_id=e.clinician_id,
            officer_id=e.officer_id,
            started_at=serializers.DateTimeField().to_representation(e.started_at),
            closed_at=serializers.DateTimeField().to_representation(e.closed_at) if e.closed_at else None,
            arrest_diverted=e.arrest_diverted,
            ed_diverted=e.ed_diverted,
        )
    if Category.SUBJECT in cats:
        person: dict[str, Any] | None = None
        if e.person:
            person = {
                "id": str(e.person.pk),
                "first_name": e.person.first_name,
                "last_name": e.person.last_name,
                "date_of_birth": e.person.date_of_birth.isoformat() if e.person.date_of_birth else None,
            }
            if Category.NARRATIVE in cats:
                # How to reach the person: for the clinical roles (care navigation), never the police roles.
                person |= {
                    "phone": e.person.phone,
                    "preferred_contact": e.person.preferred_contact,
                    "contact_consent": e.person.contact_consent,
                    "revision": e.person.revision,
                }
        data["person"] = person
    if Category.HIGH_RISK_FLAG in cats:
        data["high_risk"] = e.is_high_risk
    if Category.RISK in cats:
        data["risk_level"] = e.risk_level or None
        data["prompts"] = risk_prompts(e)
        data["screens"] = ScreenOutput(list(e.screens.all()), many=True).data
        ivc = IvcRecord.objects.filter(encounter=e).first()
        data["ivc"] = IvcOutput(ivc).data if ivc else None
    if Category.DISPOSITION in cats:
        data["dispositions"] = DispositionOutput(list(e.dispositions.all()), many=True).data
    if Category.OFFICER_SECTION in cats:
        section = OfficerSection.objects.filter(encounter=e).first()
        data["officer_section"] = OfficerSectionOutput(section).data if section else None
    if Category.NARRATIVE in cats:
        data["notes"] = [note_data(n, cats, e) for n in e.notes.all()]
        data["safety_plans"] = SafetyPlanOutput(list(e.safety_plans.all()), many=True).data
        data["referrals"] = hooks.encounter_referrals(e, view.viewer) if view.viewer is not None else []
    return data


def encounter_summary(view: EncounterView) -> dict[str, Any]:
    """A list row: no narrative even for clinicians (open the encounter for that)."""
    e = view.encounter
    cats = view.categories
    row: dict[str, Any] = {"id": str(e.pk), "revision": e.revision}
    if Category.OPERATIONAL in cats:
        row.update(
            kind=e.kind,
            team=e.team.call_sign if e.team else None,
            started_at=serializers.DateTimeField().to_representation(e.started_at),
            closed_at=serializers.DateTimeField().to_representation(e.closed_at) if e.closed_at else None,
        )
    if Category.SUBJECT in cats and e.person:
        row["person"] = {"id": str(e.person.pk), "name": e.person.display_name}
    if Category.HIGH_RISK_FLAG in cats:
        row["high_risk"] = e.is_high_risk
    if Category.RISK in cats:
        row["risk_level"] = e.risk_level or None
    if Category.DISPOSITION in cats:
        row["dispositions"] = [d.code for d in e.dispositions.all()]
    return row


def person_data(view: PersonView) -> dict[str, Any]:
    data: dict[str, Any] = dict(PersonOutput(view.person).data)
    data["merged_from"] = [str(p.pk) for p in view.merged_from]
    data["prior_encounters"] = [encounter_summary(v) for v in view.encounters]
    data["active_safety_plan"] = SafetyPlanOutput(view.safety_plan).data if view.safety_plan else None
    other = view.safety_plan_elsewhere
    data["active_safety_plan_elsewhere"] = (
        {
            "encounter_id": str(other.encounter_id),
            "created_at": serializers.DateTimeField().to_representation(other.created_at),
        }
        if other
        else None
    )
    data["open_referrals"] = view.open_referrals
    return data


# --- OpenAPI shapes of the payloads built above -------------------------------------------------------
# encounter_data, encounter_summary and note_data build plain dicts (each key only for the categories
# the viewer has). These serializers only describe them for the OpenAPI schema, from which the PWA's
# TypeScript types are generated (scripts/export_contracts.py): change both together.
# tests/test_payload_schema.py checks real payloads against them for every role, both ways (a key the
# schema lacks fails too).


class EncounterPersonOutput(serializers.Serializer[Any]):
    """The contact keys (and the person's revision, for an edit) only for the clinical roles."""

    id = serializers.UUIDField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    phone = serializers.CharField(required=False)
    preferred_contact = serializers.ChoiceField(choices=Person.PreferredContact.choices, required=False)
    contact_consent = serializers.ChoiceField(choices=Person.ContactConsent.choices, required=False)
    revision = serializers.IntegerField(required=False)


class ReadinessItemOutput(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="The requirement's code (apps/clinical/readiness.py).")
    label = serializers.CharField()  # type: ignore[assignment]  # the payload key is "label"


class ReadinessOutput(serializers.Serializer[Any]):
    ready = serializers.BooleanField()
    missing = ReadinessItemOutput(many=True)


class EncounterReferralAgencyOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField()


class EncounterReferralOutput(serializers.Serializer[Any]):
    """One referral of the encounter (apps.referrals fills these in through apps/clinical/hooks.py);
    the details only when not ``restricted`` (a substance-use referral for a viewer without Part 2)."""

    id = serializers.UUIDField()
    status = serializers.CharField()
    made_at = serializers.DateTimeField()
    restricted = serializers.BooleanField()
    type = serializers.CharField(required=False)
    agency = EncounterReferralAgencyOutput(allow_null=True, required=False)
    notes = serializers.CharField(required=False)
    made_by = serializers.CharField(required=False)


class SubstanceUseOutput(serializers.Serializer[Any]):
    label = serializers.CharField()  # type: ignore[assignment]  # the payload key is "label"
    text = serializers.CharField()


class NoteOutput(serializers.Serializer[Any]):
    """``note_data``: the narrative keys only with the NARRATIVE category, ``substance_use`` only with PART2."""

    id = serializers.UUIDField()
    encounter_id = serializers.UUIDField()
    format = serializers.ChoiceField(choices=ClinicalNote.Format.choices)
    status = serializers.ChoiceField(choices=ClinicalNote.Status.choices)
    revision = serializers.IntegerField()
    author = serializers.IntegerField()
    author_name = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    signed_by = serializers.IntegerField(allow_null=True)
    signed_by_name = serializers.CharField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    content_hash = serializers.CharField()
    cosigned_by = serializers.IntegerField(allow_null=True)
    cosigned_by_name = serializers.CharField(allow_null=True)
    cosigned_at = serializers.DateTimeField(allow_null=True)
    safety_precautions = serializers.DictField(child=serializers.BooleanField())
    integrity_ok = serializers.BooleanField(required=False, help_text="Signed notes: the content hash still matches.")
    readiness = ReadinessOutput(required=False, help_text="Draft notes: what still stops signing (readiness.py).")
    sections = serializers.DictField(child=serializers.CharField(), required=False)
    diagnoses = serializers.ListField(child=serializers.CharField(), required=False)
    medications = serializers.ListField(child=serializers.CharField(), required=False)
    addenda = AddendumOutput(many=True, required=False)
    substance_use = SubstanceUseOutput(required=False)


# The outstanding prompts of ``risk_prompts``, with what the app shows for each.
PROMPT_LABELS: dict[str, str] = {
    "safety_precautions": "Confirm the safety precautions",
    "disposition": "Record a disposition decision",
    "safety_plan": "Make a safety plan",
    "referral": "Make a referral",
    "follow_up": "Arrange a follow-up",
}
PROMPTS = tuple(PROMPT_LABELS)


class EncounterOutput(serializers.Serializer[Any]):
    """``encounter_data``: ``id`` and ``revision`` always; every other key only for the categories the
    viewer has (an officer gets the operational keys, the high-risk flag and the officer section)."""

    id = serializers.UUIDField()
    revision = serializers.IntegerField()
    break_glass = serializers.BooleanField(required=False, help_text="Present (true) when read by break-glass.")
    kind = serializers.ChoiceField(choices=Encounter.Kind.choices, required=False)
    incident_id = serializers.IntegerField(allow_null=True, required=False)
    team = serializers.CharField(allow_null=True, required=False, help_text="The team's call sign.")
    team_id = serializers.IntegerField(allow_null=True, required=False)
    clinician_id = serializers.IntegerField(allow_null=True, required=False)
    officer_id = serializers.IntegerField(allow_null=True, required=False)
    started_at = serializers.DateTimeField(required=False)
    closed_at = serializers.DateTimeField(allow_null=True, required=False)
    arrest_diverted = serializers.BooleanField(required=False)
    ed_diverted = serializers.BooleanField(required=False)
    person = EncounterPersonOutput(allow_null=True, required=False)
    high_risk = serializers.BooleanField(required=False)
    risk_level = serializers.ChoiceField(choices=Encounter.Risk.choices, allow_null=True, required=False)
    prompts = serializers.ListField(child=serializers.ChoiceField(choices=PROMPTS), required=False)
    screens = ScreenOutput(many=True, required=False)
    ivc = IvcOutput(allow_null=True, required=False)
    dispositions = DispositionOutput(many=True, required=False)
    officer_section = OfficerSectionOutput(allow_null=True, required=False)
    notes = NoteOutput(many=True, required=False)
    safety_plans = SafetyPlanOutput(many=True, required=False)
    referrals = EncounterReferralOutput(many=True, required=False)


class EncounterRowPersonOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()


class EncounterRowOutput(serializers.Serializer[Any]):
    """``encounter_summary``: a list row, no narrative for anyone; keys by category as in EncounterOutput."""

    id = serializers.UUIDField()
    revision = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Encounter.Kind.choices, required=False)
    team = serializers.CharField(allow_null=True, required=False)
    started_at = serializers.DateTimeField(required=False)
    closed_at = serializers.DateTimeField(allow_null=True, required=False)
    person = EncounterRowPersonOutput(required=False)
    high_risk = serializers.BooleanField(required=False)
    risk_level = serializers.ChoiceField(choices=Encounter.Risk.choices, allow_null=True, required=False)
    dispositions = serializers.ListField(
        child=serializers.ChoiceField(choices=Disposition.Code.choices), required=False
    )


class EncounterListOutput(serializers.Serializer[Any]):
    results = EncounterRowOutput(many=True)
