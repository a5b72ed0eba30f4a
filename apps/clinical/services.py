"""Every write to clinical records. Each one checks access, validates, writes, audits and (where
someone must know) emits an event, in one transaction: a refused write leaves nothing behind.

Offline edits carry the revision they were based on; a stale revision raises ``StaleRevision``
(409 with the server's version, never a silent merge). Signed notes are never changed here, and
the database refuses it too on PostgreSQL (see migrations).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.errors import Conflict, Invalid, NotFound
from apps.incidents.models import DispositionCode, Incident
from apps.realtime.services import event_emit
from apps.reminders.models import Reminder
from apps.reminders.services import reminder_cancel_for, reminder_schedule, reminders_cancel
from apps.teams.models import Team

from . import cssrs, hooks
from .audit import access_log_record
from .models import (
    AccessLog,
    Addendum,
    BreakGlass,
    ClinicalNote,
    CssrsScreen,
    Disposition,
    Encounter,
    IvcRecord,
    OfficerSection,
    Person,
    PersonMerge,
    SafetyPlan,
)
from .officer_section import OFFICER_SECTION_FIELD_NAMES
from .policy import (
    BREAK_GLASS_ROLES,
    CLINICAL_WRITERS,
    Actor,
    Category,
    categories_for,
    encounter_scope_q,
    event_payload_for,
    user_ids_on_encounter,
)
from .selectors import EncounterView, encounter_for_write

log = logging.getLogger(__name__)

_M = TypeVar("_M", bound=Model)

MAX_SECTION_CHARS = 20_000
MAX_LIST_ITEMS = 50
MAX_ITEM_CHARS = 500

# Structured sections per note format; all required before signing.
FORMAT_SECTIONS: dict[str, tuple[str, ...]] = {
    ClinicalNote.Format.SOAP: ("subjective", "objective", "assessment", "plan"),
    ClinicalNote.Format.DAP: ("data", "assessment", "plan"),
    ClinicalNote.Format.BIRP: ("behavior", "intervention", "response", "plan"),
    ClinicalNote.Format.CRISIS: ("presenting_problem", "mental_status", "risk_assessment", "plan"),
    ClinicalNote.Format.FOLLOW_UP: ("contact_summary", "plan"),
}
# Safety precautions that must all be confirmed before a high-risk encounter's note is signed.
SAFETY_PRECAUTIONS: tuple[str, ...] = (
    "lethal_means_addressed",
    "not_left_alone",
    "supervisor_notified",
    "safety_plan_reviewed",
)


class StaleRevision(Conflict):
    """The client edited an older revision. The API answers 409 with the server's current version."""

    def __init__(self, instance: Model, *, based_on: int) -> None:
        super().__init__(
            "This record changed since your copy (revision mismatch). Review the current version and re-apply.",
            errors={"revision": [f"Based on revision {based_on}; current is {instance.revision}."]},  # type: ignore[attr-defined]
        )
        self.instance = instance


def _check_revision(instance: Model, based_on: int | None) -> None:
    if based_on is None:
        raise Invalid("The revision your edit is based on is required.", errors={"revision": ["Required."]})
    if based_on != instance.revision:  # type: ignore[attr-defined]
        raise StaleRevision(instance, based_on=based_on)


def _insert(model: type[_M], **values: Any) -> _M:
    """INSERT a row whose id the client chose. The exists() checks before it give the friendly
    answer; this catches the race where another request inserts the same id in between (two
    devices, or two keys for one write), which would otherwise surface as a 500."""
    try:
        with transaction.atomic():
            return model._default_manager.create(**values)
    except IntegrityError as exc:
        raise Conflict(
            f"A {model._meta.verbose_name} with this id already exists.", current={"id": str(values.get("id"))}
        ) from exc


def _require_roles(user: User, roles: frozenset[str] | set[str], what: str) -> None:
    if not user.roles & roles:
        raise NotFound(f"{what} not found.")


def _clinical_write_view(user: User, encounter_id: uuid.UUID | str) -> EncounterView:
    _require_roles(user, CLINICAL_WRITERS, "Encounter")
    return encounter_for_write(user=user, encounter_id=encounter_id)


def _locked_encounter(encounter_id: uuid.UUID) -> Encounter:
    return Encounter.objects.select_for_update().get(pk=encounter_id)


def _log(actor: Actor, action: str, record: Model, encounter: Encounter | None, categories: set[str]) -> None:
    access_log_record(
        actor=actor,
        action=action,
        record_type=record._meta.model_name or "record",
        record_id=record.pk,
        categories=categories,
        encounter_id=encounter.pk if encounter else None,
        person_id=encounter.person_id if encounter else (record.pk if isinstance(record, Person) else None),
    )


WHAT_CATEGORY = {
    "encounter": Category.OPERATIONAL,
    "disposition": Category.DISPOSITION,
    "officersection": Category.OFFICER_SECTION,
    "cssrsscreen": Category.RISK,
    "ivcrecord": Category.RISK,
    "clinicalnote": Category.NARRATIVE,
    "addendum": Category.NARRATIVE,
    "safetyplan": Category.NARRATIVE,
}


def _notify_changed(encounter: Encounter, *, what: str, by: User) -> None:
    """Tell the people on the encounter that it changed (so a phone refetches, or shows a newer
    revision before the user's stale edit is refused). Payload from the policy: ids, the kind of
    record and, per recipient, the risk level or the officer's flag. Never text."""
    recipients = user_ids_on_encounter(encounter) - {by.pk}
    if not recipients:
        return

    needs = WHAT_CATEGORY.get(what, Category.NARRATIVE)

    def payload(user: User) -> dict[str, object] | None:
        data = event_payload_for(user, encounter, event="changed")
        if data is not None:
            # Even the kind of record can be clinical ("an IVC record changed"): name it only to
            # those who may see that category, otherwise just "encounter".
            data["what"] = what if needs in categories_for(user, encounter) else "encounter"
            data["revision"] = encounter.revision
        return data

    event_emit(type="clinical.encounter_changed", recipients=recipients, data=payload)


def _text(errors: dict[str, list[str]], name: str, value: Any, *, limit: int = MAX_SECTION_CHARS) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.setdefault(name, []).append("Must be text.")
        return ""
    if len(value) > limit:
        errors.setdefault(name, []).append(f"At most {limit} characters (got {len(value)}).")
    return value


def _string_list(errors: dict[str, list[str]], name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.setdefault(name, []).append("Must be a list of strings.")
        return []
    if len(value) > MAX_LIST_ITEMS:
        errors.setdefault(name, []).append(f"At most {MAX_LIST_ITEMS} entries.")
    if any(len(v) > MAX_ITEM_CHARS for v in value):
        errors.setdefault(name, []).append(f"Each entry at most {MAX_ITEM_CHARS} characters.")
    return [v.strip() for v in value if v.strip()]


# --- persons ----------------------------------------------------------------------------------------

PERSON_FIELDS = (
    "first_name",
    "last_name",
    "aliases",
    "date_of_birth",
    "sex",
    "race",
    "ethnicity",
    "veteran_status",
    "housing_status",
    "preferred_language",
    "phone",
)


def _person_apply(person: Person, data: Mapping[str, Any]) -> None:
    for name in PERSON_FIELDS:
        if name in data:
            setattr(person, name, data[name])
    person.refresh_search_name()


@transaction.atomic
def person_create(*, actor: Actor, data: Mapping[str, Any], person_id: uuid.UUID | None = None) -> Person:
    _require_roles(actor.user, CLINICAL_WRITERS, "Person")
    person = Person(id=person_id or uuid.uuid4(), created_by=actor.user)
    _person_apply(person, data)
    if Person.objects.filter(pk=person.pk).exists():
        raise Conflict("A person with this id already exists.", current={"id": str(person.pk)})
    try:
        with transaction.atomic():
            person.save(force_insert=True)
    except IntegrityError as exc:  # the same id inserted concurrently
        raise Conflict("A person with this id already exists.", current={"id": str(person.pk)}) from exc
    _log(actor, AccessLog.Action.WRITE, person, None, {Category.SUBJECT})
    return person


@transaction.atomic
def person_update(*, actor: Actor, person_id: uuid.UUID, revision: int | None, data: Mapping[str, Any]) -> Person:
    _require_roles(actor.user, CLINICAL_WRITERS, "Person")
    person = Person.objects.select_for_update().filter(pk=person_id, merged_into__isnull=True).first()
    if person is None:
        raise NotFound("Person not found.")
    _check_revision(person, revision)
    _person_apply(person, data)
    person.revision += 1
    person.updated_at = timezone.now()
    person.save()
    _log(actor, AccessLog.Action.WRITE, person, None, {Category.SUBJECT})
    return person


def _person_snapshot(person: Person) -> dict[str, Any]:
    snap = {name: getattr(person, name) for name in PERSON_FIELDS}
    snap["date_of_birth"] = person.date_of_birth.isoformat() if person.date_of_birth else None
    snap["id"] = str(person.pk)
    return snap


@transaction.atomic
def person_merge(*, actor: Actor, survivor_id: uuid.UUID, duplicate_id: uuid.UUID, reason: str) -> Person:
    """Fold ``duplicate`` into ``survivor``: its encounters and safety plans move, its names become
    aliases, and it stays as a pointer with a PersonMerge row holding its data as it was."""
    _require_roles(actor.user, CLINICAL_WRITERS, "Person")
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = ["Say why these records are the same person."]
    if survivor_id == duplicate_id:
        errors["duplicate_id"] = ["A person cannot be merged into itself."]
    if errors:
        raise Invalid("Cannot merge.", errors=errors)
    people = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[survivor_id, duplicate_id])}
    survivor, duplicate = people.get(survivor_id), people.get(duplicate_id)
    if survivor is None or duplicate is None:
        raise NotFound("Person not found.")
    if survivor.merged_into_id or duplicate.merged_into_id:
        raise Conflict(
            "One of these records was already merged.", current={"survivor": str(survivor.merged_into_id or "")}
        )
    # Every row in any app that points at the duplicate (encounters, safety plans, referrals, ...)
    # moves to the survivor; the merge history and the merged_into pointers stay as they are.
    moved: dict[str, list[str]] = {}
    for relation in Person._meta.related_objects:
        if not relation.one_to_many or relation.related_model in (Person, PersonMerge):
            continue
        related_model = relation.related_model
        field_name = relation.field.name
        rows = related_model._default_manager.filter(**{field_name: duplicate})
        ids = [str(pk) for pk in rows.values_list("pk", flat=True)]
        if ids:
            rows.update(**{field_name: survivor})
            moved[related_model._meta.label_lower] = ids
    aliases = list(survivor.aliases)
    for name in [duplicate.display_name, *duplicate.aliases]:
        if name and name != survivor.display_name and name not in aliases:
            aliases.append(name)
    survivor.aliases = aliases
    for name in ("date_of_birth", "race", "ethnicity", "preferred_language", "phone"):
        if not getattr(survivor, name) and getattr(duplicate, name):
            setattr(survivor, name, getattr(duplicate, name))
    survivor.refresh_search_name()
    survivor.revision += 1
    survivor.updated_at = timezone.now()
    survivor.save()
    PersonMerge.objects.create(
        survivor=survivor,
        duplicate=duplicate,
        reason=reason.strip()[:500],
        duplicate_snapshot=_person_snapshot(duplicate),
        moved=moved,
        merged_by=actor.user,
    )
    duplicate.merged_into = survivor
    duplicate.merged_at = timezone.now()
    duplicate.revision += 1
    duplicate.save(update_fields=["merged_into", "merged_at", "revision"])
    access_log_record(
        actor=actor,
        action=AccessLog.Action.MERGE,
        record_type="person",
        record_id=survivor.pk,
        categories={Category.SUBJECT},
        person_id=survivor.pk,
    )
    return survivor


# --- encounters -------------------------------------------------------------------------------------


@transaction.atomic
def encounter_create(
    *,
    actor: Actor,
    encounter_id: uuid.UUID,
    kind: str,
    person_id: uuid.UUID | None = None,
    team_id: int | None = None,
    officer_id: int | None = None,
    started_at: dt.datetime | None = None,
    incident_id: int | None = None,
) -> Encounter:
    _require_roles(actor.user, CLINICAL_WRITERS, "Encounter")
    errors: dict[str, list[str]] = {}
    if kind not in Encounter.Kind.values:
        errors["kind"] = [f"One of {', '.join(Encounter.Kind.values)}."]
    person = None
    if person_id is not None:
        person = Person.objects.filter(pk=person_id, merged_into__isnull=True).first()
        if person is None:
            errors["person_id"] = ["No such person (or merged: use the surviving record)."]
    officer = None
    if officer_id is not None:
        officer = User.objects.filter(pk=officer_id, is_active=True).first()
        if officer is None or not officer.has_role(Role.OFFICER):
            errors["officer_id"] = ["Not an active officer."]
    if team_id is not None and not Team.objects.filter(pk=team_id).exists():
        errors["team_id"] = ["No such team."]
    if started_at is not None and started_at > timezone.now() + dt.timedelta(minutes=5):
        errors["started_at"] = ["Cannot be in the future."]
    # An incident encounter may be started on scene before the CAD record exists; walk-ins and
    # follow-ups have none.
    if incident_id is not None:
        if not Incident.objects.filter(pk=incident_id).exists():
            errors["incident_id"] = ["No such incident."]
        elif kind != Encounter.Kind.INCIDENT:
            errors["incident_id"] = ["Only an incident encounter links to an incident."]
    if errors:
        raise Invalid("The encounter is not valid.", errors=errors)
    if Encounter.objects.filter(pk=encounter_id).exists():
        raise Conflict("An encounter with this id already exists.", current={"id": str(encounter_id)})
    encounter = _insert(
        Encounter,
        id=encounter_id,
        kind=kind,
        person=person,
        team_id=team_id,
        clinician=actor.user if actor.user.has_role(Role.CLINICIAN) else None,
        officer=officer,
        started_at=started_at or timezone.now(),
        created_by=actor.user,
        incident_id=incident_id,
    )
    _log(actor, AccessLog.Action.WRITE, encounter, encounter, {Category.OPERATIONAL})
    _notify_changed(encounter, what=encounter._meta.model_name or "record", by=actor.user)
    return encounter


@transaction.atomic
def encounter_update(
    *, actor: Actor, encounter_id: uuid.UUID, revision: int | None, data: Mapping[str, Any]
) -> Encounter:
    """Person link, officer, diversion flags and closing. Closing schedules unsigned-note reminders."""
    _clinical_write_view(actor.user, encounter_id)
    encounter = _locked_encounter(encounter_id)
    _check_revision(encounter, revision)
    errors: dict[str, list[str]] = {}
    if "person_id" in data:
        pid = data["person_id"]
        person = Person.objects.filter(pk=pid, merged_into__isnull=True).first() if pid else None
        if pid and person is None:
            errors["person_id"] = ["No such person (or merged: use the surviving record)."]
        encounter.person = person
    for flag in ("arrest_diverted", "ed_diverted"):
        if flag in data:
            setattr(encounter, flag, bool(data[flag]))
    if "closed_at" in data:
        closed_at = data["closed_at"]
        if closed_at is not None and closed_at < encounter.started_at:
            errors["closed_at"] = ["Cannot be before the encounter started."]
        if closed_at is not None and closed_at > timezone.now() + dt.timedelta(minutes=5):
            errors["closed_at"] = ["Cannot be in the future."]
        encounter.closed_at = closed_at
    if errors:
        raise Invalid("The encounter is not valid.", errors=errors)
    encounter.revision += 1
    encounter.updated_at = timezone.now()
    encounter.save()
    if "closed_at" in data:
        for note in encounter.notes.filter(status=ClinicalNote.Status.DRAFT).select_related("author"):
            _schedule_unsigned_note_reminder(note, encounter)
    _log(actor, AccessLog.Action.WRITE, encounter, encounter, {Category.OPERATIONAL})
    _notify_changed(encounter, what=encounter._meta.model_name or "record", by=actor.user)
    return encounter


# --- notes ------------------------------------------------------------------------------------------


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
            content["sections"] = {k: _text(errors, f"sections.{k}", v) for k, v in sections.items() if k in allowed}
    if "diagnoses" in data:
        content["diagnoses"] = _string_list(errors, "diagnoses", data["diagnoses"])
    if "medications" in data:
        content["medications"] = _string_list(errors, "medications", data["medications"])
    if "substance_use" in data:
        content["substance_use"] = _text(errors, "substance_use", data["substance_use"])
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
    view = _clinical_write_view(actor.user, encounter_id)
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
    note = _insert(ClinicalNote, id=note_id, encounter=view.encounter, format=fmt, author=actor.user, **content)
    encounter = view.encounter
    if encounter.closed_at is not None:
        _schedule_unsigned_note_reminder(note, encounter)
    _log(actor, AccessLog.Action.WRITE, note, encounter, _content_categories(content))
    _notify_changed(encounter, what=note._meta.model_name or "record", by=actor.user)
    return note


def _content_categories(content: Mapping[str, Any]) -> set[str]:
    cats = {Category.NARRATIVE} if set(content) - {"substance_use"} else set()
    if content.get("substance_use"):
        cats.add(Category.PART2)
    return cats


@transaction.atomic
def note_update(*, actor: Actor, note_id: uuid.UUID, revision: int | None, data: Mapping[str, Any]) -> ClinicalNote:
    note = _note_for_write(actor, note_id)
    view = _clinical_write_view(actor.user, note.encounter_id)
    if note.is_signed:
        raise Conflict(
            "A signed note cannot be changed; add an addendum instead.",
            current={"status": note.status, "revision": note.revision},
        )
    _check_revision(note, revision)
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
    _log(actor, AccessLog.Action.WRITE, note, view.encounter, _content_categories(content))
    _notify_changed(view.encounter, what=note._meta.model_name or "record", by=actor.user)
    return note


def _note_for_write(actor: Actor, note_id: uuid.UUID) -> ClinicalNote:
    _require_roles(actor.user, CLINICAL_WRITERS, "Note")
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


def note_sign_problems(note: ClinicalNote, encounter: Encounter) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    sections = note.sections or {}
    missing = [s for s in FORMAT_SECTIONS[note.format] if not str(sections.get(s, "")).strip()]
    if missing:
        errors["sections"] = [f"Required before signing: {', '.join(missing)}."]
    if note.format == ClinicalNote.Format.CRISIS and not encounter.screens.exists():
        errors["cssrs"] = ["A crisis assessment needs a C-SSRS screen before signing."]
    if encounter.is_high_risk:
        unchecked = [k for k in SAFETY_PRECAUTIONS if not (note.safety_precautions or {}).get(k)]
        if unchecked:
            errors["safety_precautions"] = [f"High risk: confirm before signing: {', '.join(unchecked)}."]
        if not encounter.dispositions.exists():
            errors["dispositions"] = ["High risk: record a disposition decision before signing."]
    return errors


@transaction.atomic
def note_sign(*, actor: Actor, note_id: uuid.UUID, revision: int | None) -> ClinicalNote:
    note = _note_for_write(actor, note_id)
    if not actor.user.has_role(Role.CLINICIAN, Role.CLINICAL_SUPERVISOR, Role.CARE_NAVIGATOR):
        raise NotFound("Note not found.")
    if note.is_signed:
        raise Conflict("The note is already signed.", current={"status": note.status, "signed_at": str(note.signed_at)})
    _check_revision(note, revision)
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
    _cancel_reminders(note, "signed")
    _log(actor, AccessLog.Action.SIGN, note, encounter, {Category.NARRATIVE})
    _notify_changed(encounter, what=note._meta.model_name or "record", by=actor.user)
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
    _log(actor, AccessLog.Action.COSIGN, note, note.encounter, {Category.NARRATIVE})
    _notify_changed(note.encounter, what=note._meta.model_name or "record", by=actor.user)
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
    _text(errors, "text", text)
    if errors:
        raise Invalid("The addendum is not valid.", errors=errors)
    if not note.is_signed:
        raise Conflict(
            "A draft note is edited directly; addenda are for signed notes.", current={"status": note.status}
        )
    if Addendum.objects.filter(pk=addendum_id).exists():
        raise Conflict("An addendum with this id already exists.", current={"id": str(addendum_id)})
    addendum = _insert(
        Addendum, id=addendum_id, note=note, kind=kind, reason=reason.strip(), text=text, author=actor.user
    )
    _log(actor, AccessLog.Action.WRITE, addendum, note.encounter, {Category.NARRATIVE})
    _notify_changed(note.encounter, what=addendum._meta.model_name or "record", by=actor.user)
    return addendum


# --- C-SSRS, safety plan, dispositions ---------------------------------------------------------------


@transaction.atomic
def screen_record(
    *,
    actor: Actor,
    encounter_id: uuid.UUID,
    answers: cssrs.Answers,
    override_risk: str = "",
    override_reason: str = "",
) -> CssrsScreen:
    """Score a C-SSRS screen on the server and set the encounter's risk. High risk alerts the
    clinical supervisors and flags the encounter for its officer (ids and the flag only)."""
    _clinical_write_view(actor.user, encounter_id)
    errors = cssrs.skip_logic_errors(answers)
    if errors:
        raise Invalid("The C-SSRS answers do not follow the screener's skip logic.", errors=errors)
    computed = cssrs.compute_risk(answers)
    if override_risk:
        if override_risk not in cssrs.RISK_ORDER:
            errors["override_risk"] = [f"One of {', '.join(cssrs.RISK_ORDER)}."]
        elif not cssrs.is_raise(computed=computed, override=override_risk):
            errors["override_risk"] = [f"May only raise the computed risk ({computed}), never lower or repeat it."]
        if not override_reason.strip():
            errors["override_reason"] = ["Say why the risk is raised."]
    elif override_reason.strip():
        errors["override_reason"] = ["Only with override_risk."]
    if len(override_reason) > 500:
        errors["override_reason"] = ["At most 500 characters."]
    if errors:
        raise Invalid("The risk override is not valid.", errors=errors)
    encounter = _locked_encounter(encounter_id)
    screen = CssrsScreen.objects.create(
        encounter=encounter,
        q1_wish_dead=bool(answers.q1_wish_dead),
        q2_active_thoughts=bool(answers.q2_active_thoughts),
        q3_method=answers.q3_method,
        q4_intent=answers.q4_intent,
        q5_plan=answers.q5_plan,
        q6_behavior=bool(answers.q6_behavior),
        q6a_past_3_months=answers.q6a_past_3_months,
        computed_risk=computed,
        rule_version=cssrs.RULE_VERSION,
        override_risk=override_risk,
        override_reason=override_reason.strip(),
        screened_by=actor.user,
    )
    was_high = encounter.is_high_risk
    encounter.risk_level = screen.final_risk
    encounter.revision += 1
    encounter.updated_at = timezone.now()
    encounter.save(update_fields=["risk_level", "revision", "updated_at"])
    if encounter.is_high_risk and not was_high:
        _emit_high_risk(encounter)
    _log(actor, AccessLog.Action.WRITE, screen, encounter, {Category.RISK})
    hooks.encounter_facts_changed(encounter)
    _notify_changed(encounter, what=screen._meta.model_name or "record", by=actor.user)
    return screen


def _emit_high_risk(encounter: Encounter) -> None:
    """The clinical supervisors and the people on the encounter learn it turned high risk."""
    recipients = set(
        User.objects.filter(groups__name=Role.CLINICAL_SUPERVISOR, is_active=True).values_list("pk", flat=True)
    )
    recipients |= user_ids_on_encounter(encounter)
    event_emit(
        type="clinical.encounter_high_risk",
        recipients=recipients,
        data=lambda user: event_payload_for(user, encounter, event="high_risk"),
    )


@transaction.atomic
def safety_plan_create(
    *, actor: Actor, encounter_id: uuid.UUID, plan_id: uuid.UUID, data: Mapping[str, Any]
) -> SafetyPlan:
    view = _clinical_write_view(actor.user, encounter_id)
    errors: dict[str, list[str]] = {}
    parts = {
        name: _text(errors, name, data.get(name), limit=5000)
        for name in (
            "warning_signs",
            "internal_coping",
            "distraction_people_places",
            "help_contacts",
            "professionals_agencies",
            "environment_safety",
        )
    }
    if not any(v.strip() for v in parts.values()):
        errors["non_field_errors"] = ["A safety plan needs at least one of its six parts."]
    lethal = data.get("lethal_means_counselling_done", False)
    if not isinstance(lethal, bool):
        errors["lethal_means_counselling_done"] = ["Must be true or false."]
    if errors:
        raise Invalid("The safety plan is not valid.", errors=errors)
    if SafetyPlan.objects.filter(pk=plan_id).exists():
        raise Conflict("A safety plan with this id already exists.", current={"id": str(plan_id)})
    encounter = view.encounter
    if encounter.person_id:
        SafetyPlan.objects.filter(person_id=encounter.person_id, is_active=True).update(is_active=False)
    plan = _insert(
        SafetyPlan,
        id=plan_id,
        person_id=encounter.person_id,
        encounter=encounter,
        lethal_means_counselling_done=lethal,
        created_by=actor.user,
        **parts,
    )
    _log(actor, AccessLog.Action.WRITE, plan, encounter, {Category.NARRATIVE})
    _notify_changed(encounter, what=plan._meta.model_name or "record", by=actor.user)
    return plan


def _apco_for(code: str) -> str:
    """The APCO code from the incidents app's admin-editable DispositionCode table when it has the
    program code, else the DOMAIN.md default."""
    row = DispositionCode.objects.filter(program_code=code, is_active=True).values_list("apco_code", flat=True).first()
    return str(row) if row is not None else Disposition.APCO.get(code, "")


@transaction.atomic
def disposition_add(*, actor: Actor, encounter_id: uuid.UUID, code: str) -> Disposition:
    view = _clinical_write_view(actor.user, encounter_id)
    if code not in Disposition.Code.values:
        raise Invalid("Unknown disposition.", errors={"code": [f"One of {', '.join(Disposition.Code.values)}."]})
    if Disposition.objects.filter(encounter=view.encounter, code=code).exists():
        raise Conflict("This disposition is already recorded.", current={"code": code})
    try:
        with transaction.atomic():
            disposition = Disposition.objects.create(
                encounter=view.encounter, code=code, apco_code=_apco_for(code), recorded_by=actor.user
            )
    except IntegrityError as exc:
        raise Conflict("This disposition is already recorded.", current={"code": code}) from exc
    _log(actor, AccessLog.Action.WRITE, disposition, view.encounter, {Category.DISPOSITION})
    hooks.encounter_facts_changed(view.encounter)
    _notify_changed(view.encounter, what=disposition._meta.model_name or "record", by=actor.user)
    return disposition


# --- IVC and the officer section -------------------------------------------------------------------

IVC_TIME_ORDER = (
    ("petition_at", "custody_order_at", "The custody order cannot precede the petition."),
    ("custody_order_at", "custody_taken_at", "Custody cannot be taken before the custody order."),
    ("custody_taken_at", "first_exam_at", "The first examination cannot precede custody."),
)


def ivc_time_problems(values: Mapping[str, Any], *, now: dt.datetime) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("petition_at", "custody_order_at", "custody_taken_at", "first_exam_at"):
        moment = values.get(name)
        if moment is not None and moment > now + dt.timedelta(minutes=5):
            errors.setdefault(name, []).append("Cannot be in the future.")
    for before, after, message in IVC_TIME_ORDER:
        a, b = values.get(before), values.get(after)
        if a is not None and b is not None and b < a:
            errors.setdefault(after, []).append(message)
    if (
        values.get("custody_taken_at") is not None
        and values.get("custody_order_at") is None
        and values.get("pathway") == IvcRecord.Pathway.PETITION
    ):
        errors.setdefault("custody_order_at", []).append("Custody under a petition needs the custody order time.")
    order, taken = values.get("custody_order_at"), values.get("custody_taken_at")
    if order is not None and taken is not None and taken - order > dt.timedelta(hours=24):
        errors.setdefault("custody_taken_at", []).append(
            "More than 24 h after the custody order: the order had expired (G.S. 122C-261(e)); record outcome instead."
        )
    return errors


IVC_FIELDS = (
    "pathway",
    "petitioner_name",
    "petitioner_relationship",
    "petition_at",
    "custody_order_at",
    "custody_taken_at",
    "first_exam_at",
    "outcome",
)


@transaction.atomic
def ivc_save(*, actor: Actor, encounter_id: uuid.UUID, revision: int | None, data: Mapping[str, Any]) -> IvcRecord:
    """Create (revision omitted) or update (revision required) the encounter's IVC record."""
    view = _clinical_write_view(actor.user, encounter_id)
    existing = IvcRecord.objects.select_for_update().filter(encounter=view.encounter).first()
    if existing is not None:
        _check_revision(existing, revision)
        values = {name: getattr(existing, name) for name in IVC_FIELDS}
    else:
        if revision is not None:
            raise Conflict("There is no IVC record yet; create it without a revision.", current=None)
        values = {"outcome": IvcRecord.Outcome.PENDING}
    values.update({k: v for k, v in data.items() if k in IVC_FIELDS})
    errors: dict[str, list[str]] = {}
    if values.get("pathway") not in IvcRecord.Pathway.values:
        errors["pathway"] = [f"One of {', '.join(IvcRecord.Pathway.values)}."]
    if values.get("outcome") not in IvcRecord.Outcome.values:
        errors["outcome"] = [f"One of {', '.join(IvcRecord.Outcome.values)}."]
    errors.update(ivc_time_problems(values, now=timezone.now()))
    if errors:
        raise Invalid("The IVC record is not valid.", errors=errors)
    record = existing or IvcRecord(encounter=view.encounter)
    for name, value in values.items():
        setattr(record, name, value)
    record.updated_by = actor.user
    record.updated_at = timezone.now()
    if existing is not None:
        record.revision += 1
    record.save()
    _sync_custody_reminder(record)
    _log(actor, AccessLog.Action.WRITE, record, view.encounter, {Category.RISK})
    hooks.encounter_facts_changed(view.encounter)
    _notify_changed(view.encounter, what=record._meta.model_name or "record", by=actor.user)
    return record


@transaction.atomic
def officer_section_save(
    *, actor: Actor, encounter_id: uuid.UUID, revision: int | None, data: Mapping[str, Any]
) -> OfficerSection:
    """The officer's part, written by an officer in scope (create: no revision; update: revision)."""
    _require_roles(actor.user, {Role.OFFICER}, "Encounter")
    scope = encounter_scope_q(actor.user)
    encounter = Encounter.objects.filter(scope, pk=encounter_id).first() if scope is not None else None
    if encounter is None:
        raise NotFound("Encounter not found.")
    existing = OfficerSection.objects.select_for_update().filter(encounter=encounter).first()
    if existing is not None:
        _check_revision(existing, revision)
    elif revision is not None:
        raise Conflict("There is no officer section yet; create it without a revision.", current=None)
    section = existing or OfficerSection(encounter=encounter)
    errors: dict[str, list[str]] = {}
    for name in OFFICER_SECTION_FIELD_NAMES:
        if name in data:
            setattr(section, name, data[name])
    if section.police_action not in OfficerSection.PoliceAction.values:
        errors["police_action"] = [f"One of {', '.join(OfficerSection.PoliceAction.values)}."]
    if section.transport not in OfficerSection.Transport.values:
        errors["transport"] = [f"One of {', '.join(OfficerSection.Transport.values)}."]
    if section.use_of_force and not section.use_of_force_description.strip():
        errors["use_of_force_description"] = ["Describe the force used."]
    if (section.subject_injured or section.officer_injured) and not section.injuries_description.strip():
        errors["injuries_description"] = ["Describe the injuries."]
    for name in ("use_of_force_description", "injuries_description"):
        _text(errors, name, getattr(section, name), limit=4000)
    if errors:
        raise Invalid("The officer section is not valid.", errors=errors)
    section.updated_by = actor.user
    section.updated_at = timezone.now()
    if existing is not None:
        section.revision += 1
    section.save()
    _log(actor, AccessLog.Action.WRITE, section, encounter, {Category.OFFICER_SECTION})
    _notify_changed(encounter, what=section._meta.model_name or "record", by=actor.user)
    return section


# --- break-glass ------------------------------------------------------------------------------------


@transaction.atomic
def break_glass_open(*, actor: Actor, encounter_id: uuid.UUID, reason: str) -> BreakGlass:
    """Open one encounter outside the user's scope for CLINICAL_BREAK_GLASS_MINUTES, with a reason.
    Logged, flagged for review, and the clinical supervisors are told (ids only)."""
    _require_roles(actor.user, BREAK_GLASS_ROLES, "Encounter")
    if not (reason or "").strip() or len(reason.strip()) < 10:
        raise Invalid("Break-glass needs a reason.", errors={"reason": ["Give the emergency reason (10+ characters)."]})
    if len(reason) > 500:
        raise Invalid("Reason too long.", errors={"reason": ["At most 500 characters."]})
    encounter = Encounter.objects.filter(pk=encounter_id).first()
    if encounter is None:
        raise NotFound("Encounter not found.")
    scope = encounter_scope_q(actor.user)
    if (
        scope is not None
        and Encounter.objects.filter(scope, pk=encounter.pk).exists()
        and Category.NARRATIVE in categories_for(actor.user, encounter)
    ):
        raise Conflict("You already have access to this encounter; no break-glass needed.", current=None)
    now = timezone.now()
    grant = BreakGlass.objects.create(
        user=actor.user,
        encounter=encounter,
        reason=reason.strip(),
        opened_at=now,
        expires_at=now + dt.timedelta(minutes=settings.CLINICAL_BREAK_GLASS_MINUTES),
    )
    access_log_record(
        actor=actor,
        action=AccessLog.Action.BREAK_GLASS,
        record_type="encounter",
        record_id=encounter.pk,
        encounter_id=encounter.pk,
        person_id=encounter.person_id,
        break_glass=True,
    )
    supervisors = User.objects.filter(groups__name=Role.CLINICAL_SUPERVISOR, is_active=True)
    event_emit(
        type="clinical.break_glass",
        recipients=list(supervisors),
        data={"break_glass_id": grant.pk, "encounter_id": str(encounter.pk), "user_id": actor.user.pk},
    )
    return grant


@transaction.atomic
def break_glass_review(*, reviewer: User, grant_id: int) -> BreakGlass:
    if not reviewer.has_role(Role.CLINICAL_SUPERVISOR, Role.SUPERVISOR):
        raise NotFound("Not found.")
    grant = BreakGlass.objects.select_for_update().filter(pk=grant_id).first()
    if grant is None:
        raise NotFound("Not found.")
    if grant.user_id == reviewer.pk:
        raise Invalid("Nobody reviews their own break-glass.", errors={"reviewer": ["Ask another supervisor."]})
    if grant.reviewed_at is None:
        grant.reviewed_by = reviewer
        grant.reviewed_at = timezone.now()
        grant.save(update_fields=["reviewed_by", "reviewed_at"])
    return grant


# --- reminders (apps.reminders) ---------------------------------------------------------------------


def _reminder_keep_only(*, prefix: str, keep: str | None, reason: str) -> None:
    """Cancel this family's scheduled reminders except ``keep`` (a moved deadline gets a new key,
    so the old one must go; reminder_schedule is idempotent per key)."""
    stale = Reminder.objects.filter(dedupe_key__startswith=prefix, status=Reminder.Status.SCHEDULED)
    if keep is not None:
        stale = stale.exclude(dedupe_key=keep)
    ids = list(stale.values_list("id", flat=True))
    if ids:
        reminders_cancel(ids=ids, reason=reason)


def _deadline_reminder(
    *,
    prefix: str,
    start: dt.datetime | None,
    hours: float,
    recipient: User,
    kind: str,
    subject: Model,
    title: str,
    url: str,
) -> None:
    """Schedule one reminder ``hours`` after ``start`` (keyed on ``start``), or cancel the family
    when ``start`` is None (the deadline no longer applies)."""
    if start is None:
        _reminder_keep_only(prefix=prefix, keep=None, reason="no longer due")
        return
    key = f"{prefix}{start:%Y%m%dT%H%M%S}"
    _reminder_keep_only(prefix=prefix, keep=key, reason="deadline moved")
    reminder_schedule(
        recipient=recipient,
        kind=kind,
        due_at=start + dt.timedelta(hours=hours),
        subject=subject,
        title=title,
        url=url,
        dedupe_key=key,
    )


def _schedule_unsigned_note_reminder(note: ClinicalNote, encounter: Encounter) -> None:
    """Unsigned N h after the encounter closed (re-opening the encounter cancels it)."""
    _deadline_reminder(
        prefix=f"clinical:note:{note.pk}:unsigned:",
        start=encounter.closed_at if not note.is_signed else None,
        hours=settings.CLINICAL_UNSIGNED_NOTE_REMINDER_HOURS,
        recipient=note.author,
        kind=Reminder.Kind.NOTE_UNSIGNED,
        subject=note,
        title="A note is waiting for your signature",
        url=f"/clinical/notes/{note.pk}",
    )


def _sync_custody_reminder(record: IvcRecord) -> None:
    """DOMAIN.md §4: custody within 24 h of the order, first examination within 24 h of custody;
    warn at N h (CLINICAL_IVC_CUSTODY_REMINDER_HOURS) before each window ends."""
    pending = record.outcome == IvcRecord.Outcome.PENDING
    hours = settings.CLINICAL_IVC_CUSTODY_REMINDER_HOURS
    url = f"/clinical/encounters/{record.encounter_id}"
    _deadline_reminder(
        prefix=f"clinical:ivc:{record.pk}:custody:",
        start=record.custody_order_at if pending and record.custody_taken_at is None else None,
        hours=hours,
        recipient=record.updated_by,
        kind=Reminder.Kind.IVC_CUSTODY_WINDOW,
        subject=record,
        title="A custody order is close to its 24 h limit",
        url=url,
    )
    _deadline_reminder(
        prefix=f"clinical:ivc:{record.pk}:exam:",
        start=record.custody_taken_at if pending and record.first_exam_at is None else None,
        hours=hours,
        recipient=record.updated_by,
        kind=Reminder.Kind.IVC_CUSTODY_WINDOW,
        subject=record,
        title="A first examination is close to its 24 h limit",
        url=url,
    )


def _cancel_reminders(note: ClinicalNote, reason: str) -> None:
    reminder_cancel_for(subject=note, reason=reason)
