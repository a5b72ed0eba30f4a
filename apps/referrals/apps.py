from __future__ import annotations

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "apps.referrals"
    label = "referrals"
    verbose_name = "Referrals and care navigation"

    def ready(self) -> None:
        from apps.reminders.registry import register_obsolescence_check

        from .services import followup_reminder_is_obsolete

        # A reminder about a follow-up that was done, closed or reassigned meanwhile is cancelled, not sent.
        register_obsolescence_check("referrals.followup", followup_reminder_is_obsolete)
