"""C-SSRS screens: scored on the server, set the encounter's risk, alert on high risk."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.errors import Invalid
from apps.realtime.services import event_emit

from .. import cssrs, hooks
from ..models import AccessLog, CssrsScreen, Encounter
from ..policy import Actor, Category, event_payload_for, user_ids_on_encounter
from .common import clinical_write_view, locked_encounter, log_write, notify_changed


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
    clinical_write_view(actor.user, encounter_id)
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
    encounter = locked_encounter(encounter_id)
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
    log_write(actor, AccessLog.Action.WRITE, screen, encounter, {Category.RISK})
    hooks.encounter_facts_changed(encounter)
    notify_changed(encounter, what=screen._meta.model_name or "record", by=actor.user)
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
