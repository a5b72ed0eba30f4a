"""Clinical notes: drafts, signing (content hash), co-signing, addenda."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.roles import Role
from apps.core.errors import Conflict, Invalid, NotFound

from ..models import AccessLog, Addendum, ClinicalNote, Encounter
from ..policy import CLINICAL_WRITERS, Actor, Category
from ..readiness import FORMAT_SECTIONS, SAFETY_PRECAUTIONS, SignFacts, missing_as_errors, sign_missing
from ..selectors import EncounterView, encounter_for_write
from .common import (
    check_revision,
    clinical_write_view,
    insert_new,
    log_write,
    notify_changed,
    require_roles,
    string_list,
    text_field,
)
from .reminders import cancel_note_reminders, schedule_unsigned_note_reminder


def _note_content(*, fmt: str, data: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    allowed = FORMAT_SECTIONS.get(fmt, ())
    content: dict[str, Any] = {}
    if "sections" in data:
        sections = data["sections"]
        if not isinstance(sections, dict):
            errors["sections"] = ["Must be an object of section name → text."]
        else:
            unknown = sorted(set(sections) - set(allowed))
            if unknown:
                errors["sections"] = [
                    f"Unknown section(s) for {fmt}: {', '.join(unknown)}. Allowed: {', '.join(allowed)}."
                ]
            content["sections"] = {
                k: text_field(errors, f"sections.{k}", v) for k, v in sections.items() if k in allowed
            }
    if "diagnoses" in data:
        content["diagnoses"] = string_list(errors, "diagnoses", data["diagnoses"])
    if "medications" in data:
        content["medications"] = string_list(errors, "medications", data["medications"])
    if "substance_use" in data:
        content["substance_use"] = text_field(errors, "substance_use", data["substance_use"])
    if "safety_precautions" in data:
        sp = data["safety_precautions"]
        if not isinstance(sp, dict) or not all(isinstance(v, bool) for v in sp.values()):
            errors["safety_precautions"] = ["Must be an object of checklist item → true/false."]
        else:
            unknown = sorted(set(sp) - set(SAFETY_PRECAUTIONS))
            if unknown:
                errors["safety_precautions"] = [f"Unknown item(s): {', '.join(unknown)}."]
            content["safety_precautions"] = {k: sp[k] for k in sp if k in SAFETY_PRECAUTIONS}
    return content


def _require_part2_for(actor: Actor, content: Mapping[str, Any], view: EncounterView) -> None:
    # Any write of the field, blank included: clearing content you may not read is also a write.
    if "substance_use" in content and Category.PART2 not in view.categories:
        raise Invalid(
            "You are not authorised to record 42 CFR Part 2 content.",
            errors={"substance_use": ["Requires Part 2 authorisation."]},
        )


@transaction.atomic
def note_create(
    *, actor: Actor, encounter_id: uuid.UUID, note_id: uuid.UUID, fmt: str, data: Mapping[str, Any]
) -> ClinicalNote:
    view = clinical_write_view(actor.user, encounter_id)
    errors: dict[str, list[str]] = {}
    if fmt not in FORMAT_SECTIONS:
        errors["format"] = [f"One of {', '.join(FORMAT_SECTIONS)}."]
    content = _note_content(fmt=fmt, data=data, errors=errors)
    if errors:
        raise Invalid("The note is not valid.", errors=errors)
    _require_part2_for(actor, content, view)
    if ClinicalNote.objects.filter(pk=note_id).exists():
        # The same client UUID without the same Idempotency-Key: a second device or a bug. Never overwrite.
        raise Conflict("A note with this id already exists.", current={"id": str(note_id)})
    note = insert_new(ClinicalNote, id=note_id, encounter=view.encounter, format=fmt, author=actor.user, **content)
    encounter = view.encounter
    if encounter.closed_at is not None:
        schedule_unsigned_note_reminder(note, encounter)
    log_write(actor, AccessLog.Action.WRITE, note, encounter, _content_categories(content))
    notify_changed(encounter, what=note._meta.model_name or "record", by=actor.user)
    return note


def _content_categories(content: Mapping[str, Any]) -> set[str]:
    cats = {Category.NARRATIVE} if set(content) - {"substance_use"} else set()
    if content.get("substance_use"):
        cats.add(Category.PART2)
    return cats


@transaction.atomic
def note_update(*, actor: Actor, note_id: uuid.UUID, revision: int | None, data: Mapping[str, Any]) -> ClinicalNote:
    note = _note_for_write(actor, note_id)
    view = clinical_write_view(actor.user, note.encounter_id)
    if note.is_signed:
        raise Conflict(
            "A signed note cannot be changed; add an addendum instead.",
            current={"status": note.status, "revision": note.revision},
        )
    check_revision(note, revision)
    errors: dict[str, list[str]] = {}
    content = _note_content(fmt=note.format, data=data, errors=errors)
    if errors:
        raise Invalid("The note is not valid.", errors=errors)
    _require_part2_for(actor, content, view)
    if "sections" in content:
        # A partial sections object updates only the sections it names.
        content["sections"] = {**(note.sections or {}), **content["sections"]}
    for name, value in content.items():
        setattr(note, name, value)
    note.revision += 1
    note.updated_at = timezone.now()
    note.save()
    log_write(actor, AccessLog.Action.WRITE, note, view.encounter, _content_categories(content))
    notify_changed(view.encounter, what=note._meta.model_name or "record", by=actor.user)
    return note


def _note_for_write(actor: Actor, note_id: uuid.UUID) -> ClinicalNote:
    require_roles(actor.user, CLINICAL_WRITERS, "Note")
    encounter_id = ClinicalNote.objects.filter(pk=note_id).values_list("encounter_id", flat=True).first()
    if encounter_id is None:
        raise NotFound("Note not found.")
    encounter_for_write(user=actor.user, encounter_id=encounter_id)
    return ClinicalNote.objects.select_for_update().get(pk=note_id)


def note_content_hash(note: ClinicalNote) -> str:
    """SHA-256 over the signed content (canonical JSON), stored at signing and re-checked on read."""
    payload = {
        "id": str(note.pk),
        "encounter": str(note.encounter_id),
        "format": note.format,
        "sections": note.sections,
        "diagnoses": note.diagnoses,
        "medications": note.medications,
        "substance_use": note.substance_use,
        "safety_precautions": note.safety_precautions,
        "author": note.author_id,
        "signed_by": note.signed_by_id,
        "signed_at": note.signed_at.isoformat() if note.signed_at else None,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def note_sign_facts(note: ClinicalNote, encounter: Encounter) -> SignFacts:
    """What the sign-readiness rule (apps/clinical/readiness.py) looks at, read from the database."""
    return SignFacts(
        format=note.format,
        sections=note.sections or {},
        safety_precautions=note.safety_precautions or {},
        has_screen=encounter.screens.exists(),
        risk_level=encounter.risk_level or None,
        disposition_count=encounter.dispositions.count(),
    )


def note_sign_problems(note: ClinicalNote, encounter: Encounter) -> dict[str, list[str]]:
    """What still stops ``note`` from being signed, by field, in words a person understands."""
    return missing_as_errors(sign_missing(note_sign_facts(note, encounter)))


@transaction.atomic
def note_sign(*, actor: Actor, note_id: uuid.UUID, revision: int | None) -> ClinicalNote:
    note = _note_for_write(actor, note_id)
    if not actor.user.has_role(Role.CLINICIAN, Role.CLINICAL_SUPERVISOR, Role.CARE_NAVIGATOR):
        raise NotFound("Note not found.")
    if note.is_signed:
        raise Conflict("The note is already signed.", current={"status": note.status, "signed_at": str(note.signed_at)})
    check_revision(note, revision)
    if note.author_id != actor.user.pk:
        raise Invalid("Only the author signs a note.", errors={"signer": ["You are not the author of this note."]})
    encounter = Encounter.objects.select_for_update().get(pk=note.encounter_id)
    problems = note_sign_problems(note, encounter)
    if problems:
        raise Invalid("The note cannot be signed yet.", errors=problems)
    note.status = ClinicalNote.Status.SIGNED
    note.signed_by = actor.user
    note.signed_at = timezone.now()
    note.content_hash = note_content_hash(note)
    note.revision += 1
    note.updated_at = note.signed_at
    note.save()
    cancel_note_reminders(note, "signed")
    log_write(actor, AccessLog.Action.SIGN, note, encounter, {Category.NARRATIVE})
    notify_changed(encounter, what=note._meta.model_name or "record", by=actor.user)
    return note


@transaction.atomic
def note_cosign(*, actor: Actor, note_id: uuid.UUID) -> ClinicalNote:
    if not actor.user.has_role(Role.CLINICAL_SUPERVISOR):
        raise NotFound("Note not found.")
    note = _note_for_write(actor, note_id)
    if not note.is_signed:
        raise Conflict("Only a signed note can be co-signed.", current={"status": note.status})
    if note.cosigned_at is not None:
        raise Conflict("The note is already co-signed.", current={"cosigned_at": str(note.cosigned_at)})
    if note.signed_by_id == actor.user.pk:
        raise Invalid("The signer cannot co-sign.", errors={"cosigner": ["Co-signing needs a second person."]})
    # Only the co-sign columns change; the database trigger allows exactly this on a signed row.
    ClinicalNote.objects.filter(pk=note.pk, cosigned_at__isnull=True).update(
        cosigned_by=actor.user, cosigned_at=timezone.now()
    )
    note.refresh_from_db()
    log_write(actor, AccessLog.Action.COSIGN, note, note.encounter, {Category.NARRATIVE})
    notify_changed(note.encounter, what=note._meta.model_name or "record", by=actor.user)
    return note


@transaction.atomic
def addendum_create(
    *, actor: Actor, note_id: uuid.UUID, addendum_id: uuid.UUID, kind: str, reason: str, text: str
) -> Addendum:
    note = _note_for_write(actor, note_id)
    errors: dict[str, list[str]] = {}
    if kind not in Addendum.Kind.values:
        errors["kind"] = [f"One of {', '.join(Addendum.Kind.values)}."]
    if not (reason or "").strip():
        errors["reason"] = ["An addendum needs a reason."]
    elif len(reason) > 500:
        errors["reason"] = ["At most 500 characters."]
    if not (text or "").strip():
        errors["text"] = ["Required."]
    text_field(errors, "text", text)
    if errors:
        raise Invalid("The addendum is not valid.", errors=errors)
    if not note.is_signed:
        raise Conflict(
            "A draft note is edited directly; addenda are for signed notes.", current={"status": note.status}
        )
    if Addendum.objects.filter(pk=addendum_id).exists():
        raise Conflict("An addendum with this id already exists.", current={"id": str(addendum_id)})
    addendum = insert_new(
        Addendum, id=addendum_id, note=note, kind=kind, reason=reason.strip(), text=text, author=actor.user
    )
    log_write(actor, AccessLog.Action.WRITE, addendum, note.encounter, {Category.NARRATIVE})
    notify_changed(note.encounter, what=addendum._meta.model_name or "record", by=actor.user)
    return addendum
