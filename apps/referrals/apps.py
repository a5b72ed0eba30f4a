from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from apps.clinical.models import Encounter


def _apply_followup_policy(encounter: Encounter) -> None:
    """A fact of the encounter changed (risk, disposition, IVC): create the follow-ups it calls for in
    the same transaction, instead of waiting for the policy sweep (which stays as the safety net)."""
    from .services import followup_policy_apply

    followup_policy_apply(encounter=encounter)


class ReferralsConfig(AppConfig):
    name = "apps.referrals"
    label = "referrals"
    verbose_name = "Referrals and care navigation"

    def ready(self) -> None:
        from apps.clinical import hooks as clinical_hooks
        from apps.realtime import registry
        from apps.reminders.registry import register_obsolescence_check

        from . import events
        from .selectors import encounter_care_counts, encounter_referrals, person_open_referrals
        from .services import followup_reminder_is_obsolete

        registry.register(*events.EVENTS)
        # A reminder about a follow-up that was done, closed or reassigned meanwhile is cancelled, not sent.
        register_obsolescence_check("referrals.followup", followup_reminder_is_obsolete)
        # clinical sits below referrals and never imports it: it calls these (apps/clinical/hooks.py).
        clinical_hooks.register_encounter_facts_hook(_apply_followup_policy)
        clinical_hooks.register_open_referrals(person_open_referrals)
        clinical_hooks.register_encounter_referrals(encounter_referrals, encounter_care_counts)
