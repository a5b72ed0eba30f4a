"""Stanley-Brown safety plans: a new one supersedes the person's active plan."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from apps.core.errors import Conflict, Invalid

from ..models import AccessLog, SafetyPlan
from ..policy import Actor, Category
from .common import clinical_write_view, insert_new, log_write, notify_changed, text_field


@transaction.atomic
def safety_plan_create(
    *, actor: Actor, encounter_id: uuid.UUID, plan_id: uuid.UUID, data: Mapping[str, Any]
) -> SafetyPlan:
    view = clinical_write_view(actor.user, encounter_id)
    errors: dict[str, list[str]] = {}
    parts = {
        name: text_field(errors, name, data.get(name), limit=5000)
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
    plan = insert_new(
        SafetyPlan,
        id=plan_id,
        person_id=encounter.person_id,
        encounter=encounter,
        lethal_means_counselling_done=lethal,
        created_by=actor.user,
        **parts,
    )
    log_write(actor, AccessLog.Action.WRITE, plan, encounter, {Category.NARRATIVE})
    notify_changed(encounter, what=plan._meta.model_name or "record", by=actor.user)
    return plan
