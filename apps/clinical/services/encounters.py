"""Encounters: create (client UUID), link a person, diversion flags, close and reopen."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.errors import Conflict, Invalid
from apps.incidents.models import Incident
from apps.teams.models import Team

from ..models import AccessLog, ClinicalNote, Encounter, Person
from ..policy import CLINICAL_WRITERS, Actor, Category
from .common import (
    check_revision,
    clinical_write_view,
    insert_new,
    locked_encounter,
    log_write,
    notify_changed,
    require_roles,
)
from .reminders import schedule_unsigned_note_reminder


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
    require_roles(actor.user, CLINICAL_WRITERS, "Encounter")
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
    encounter = insert_new(
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
    log_write(actor, AccessLog.Action.WRITE, encounter, encounter, {Category.OPERATIONAL})
    notify_changed(encounter, what=encounter._meta.model_name or "record", by=actor.user)
    return encounter


@transaction.atomic
def encounter_update(
    *, actor: Actor, encounter_id: uuid.UUID, revision: int | None, data: Mapping[str, Any]
) -> Encounter:
    """Person link, officer, diversion flags and closing. Closing schedules unsigned-note reminders."""
    clinical_write_view(actor.user, encounter_id)
    encounter = locked_encounter(encounter_id)
    check_revision(encounter, revision)
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
            schedule_unsigned_note_reminder(note, encounter)
    log_write(actor, AccessLog.Action.WRITE, encounter, encounter, {Category.OPERATIONAL})
    notify_changed(encounter, what=encounter._meta.model_name or "record", by=actor.user)
    return encounter
