from __future__ import annotations

from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "apps.clinical"
    label = "clinical"
    verbose_name = "Clinical documentation"

    def ready(self) -> None:
        from apps.core.crypto import check_note_keys
        from apps.realtime import registry
        from apps.reminders.models import Reminder
        from apps.reminders.registry import register_obsolescence_check

        from . import events
        from .models import ClinicalNote, IvcRecord

        # No key, or an invalid one, means clinical content can be neither written nor read:
        # refuse to start (ImproperlyConfigured with the fix in the message) rather than fail per request.
        check_note_keys()
        registry.register(*events.EVENTS)

        def note_signed(reminder: Reminder) -> bool:
            return not ClinicalNote.objects.filter(pk=reminder.subject_id, status=ClinicalNote.Status.DRAFT).exists()

        def ivc_window_closed(reminder: Reminder) -> bool:
            waiting_for = "first_exam_at" if ":exam:" in reminder.dedupe_key else "custody_taken_at"
            return not IvcRecord.objects.filter(
                pk=reminder.subject_id, outcome=IvcRecord.Outcome.PENDING, **{f"{waiting_for}__isnull": True}
            ).exists()

        register_obsolescence_check("clinical.clinicalnote", note_signed)
        register_obsolescence_check("clinical.ivcrecord", ivc_window_closed)

        # The closed-calls search (apps.incidents) filters by and shows the dispositions recorded here.
        from apps.incidents.hooks import register_dispositions

        from .selectors import disposition_codes_of_incidents, incidents_with_disposition

        register_dispositions(incident_ids_with=incidents_with_disposition, codes_of=disposition_codes_of_incidents)
