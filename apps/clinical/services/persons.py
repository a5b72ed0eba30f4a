"""Persons: create, edit demographics, merge a duplicate into the surviving record."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import Conflict, Invalid, NotFound

from ..audit import access_log_record
from ..models import AccessLog, Person, PersonMerge
from ..policy import CLINICAL_WRITERS, Actor, Category
from .common import check_revision, log_write, require_roles

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
    "preferred_contact",
    "contact_consent",
)
# Kept out of a merge's plain-JSON snapshot: stored encrypted (the duplicate row keeps its own copy).
ENCRYPTED_PERSON_FIELDS = frozenset({"phone"})


def _person_apply(person: Person, data: Mapping[str, Any]) -> None:
    for name in PERSON_FIELDS:
        if name in data:
            setattr(person, name, data[name])
    person.refresh_search_name()


@transaction.atomic
def person_create(*, actor: Actor, data: Mapping[str, Any], person_id: uuid.UUID | None = None) -> Person:
    require_roles(actor.user, CLINICAL_WRITERS, "Person")
    person = Person(id=person_id or uuid.uuid4(), created_by=actor.user)
    _person_apply(person, data)
    if Person.objects.filter(pk=person.pk).exists():
        raise Conflict("A person with this id already exists.", current={"id": str(person.pk)})
    try:
        with transaction.atomic():
            person.save(force_insert=True)
    except IntegrityError as exc:  # the same id inserted concurrently
        raise Conflict("A person with this id already exists.", current={"id": str(person.pk)}) from exc
    log_write(actor, AccessLog.Action.WRITE, person, None, {Category.SUBJECT})
    return person


@transaction.atomic
def person_update(*, actor: Actor, person_id: uuid.UUID, revision: int | None, data: Mapping[str, Any]) -> Person:
    require_roles(actor.user, CLINICAL_WRITERS, "Person")
    person = Person.objects.select_for_update().filter(pk=person_id, merged_into__isnull=True).first()
    if person is None:
        raise NotFound("Person not found.")
    check_revision(person, revision)
    _person_apply(person, data)
    person.revision += 1
    person.updated_at = timezone.now()
    person.save()
    log_write(actor, AccessLog.Action.WRITE, person, None, {Category.SUBJECT})
    return person


def _person_snapshot(person: Person) -> dict[str, Any]:
    snap = {name: getattr(person, name) for name in PERSON_FIELDS if name not in ENCRYPTED_PERSON_FIELDS}
    snap["date_of_birth"] = person.date_of_birth.isoformat() if person.date_of_birth else None
    snap["id"] = str(person.pk)
    return snap


@transaction.atomic
def person_merge(*, actor: Actor, survivor_id: uuid.UUID, duplicate_id: uuid.UUID, reason: str) -> Person:
    """Fold ``duplicate`` into ``survivor``: its encounters and safety plans move, its names become
    aliases, and it stays as a pointer with a PersonMerge row holding its data as it was."""
    require_roles(actor.user, CLINICAL_WRITERS, "Person")
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
    # How to reach the person: the duplicate's answers fill what the survivor has not been asked.
    if survivor.preferred_contact == Person.PreferredContact.UNSTATED:
        survivor.preferred_contact = duplicate.preferred_contact
    if survivor.contact_consent == Person.ContactConsent.UNKNOWN:
        survivor.contact_consent = duplicate.contact_consent
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
