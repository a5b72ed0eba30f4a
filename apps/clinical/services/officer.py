"""The officer's section of an encounter (fields: apps/clinical/officer_section.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.roles import Role
from apps.core.errors import Conflict, Invalid, NotFound

from ..models import AccessLog, Encounter, OfficerSection
from ..officer_section import OFFICER_SECTION_FIELD_NAMES
from ..policy import Actor, Category, encounter_scope_q
from .common import check_revision, log_write, notify_changed, require_roles, text_field


@transaction.atomic
def officer_section_save(
    *, actor: Actor, encounter_id: uuid.UUID, revision: int | None, data: Mapping[str, Any]
) -> OfficerSection:
    """The officer's part, written by an officer in scope (create: no revision; update: revision)."""
    require_roles(actor.user, {Role.OFFICER}, "Encounter")
    scope = encounter_scope_q(actor.user)
    encounter = Encounter.objects.filter(scope, pk=encounter_id).first() if scope is not None else None
    if encounter is None:
        raise NotFound("Encounter not found.")
    existing = OfficerSection.objects.select_for_update().filter(encounter=encounter).first()
    if existing is not None:
        check_revision(existing, revision)
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
        text_field(errors, name, getattr(section, name), limit=4000)
    if errors:
        raise Invalid("The officer section is not valid.", errors=errors)
    section.updated_by = actor.user
    section.updated_at = timezone.now()
    if existing is not None:
        section.revision += 1
    section.save()
    log_write(actor, AccessLog.Action.WRITE, section, encounter, {Category.OFFICER_SECTION})
    notify_changed(encounter, what=section._meta.model_name or "record", by=actor.user)
    return section
