"""Deadline reminders of clinical records (apps.reminders): unsigned notes, IVC custody windows."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Model

from apps.accounts.models import User
from apps.reminders.models import Reminder
from apps.reminders.services import reminder_cancel_for, reminder_schedule, reminders_cancel

from ..models import ClinicalNote, Encounter, IvcRecord


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


def schedule_unsigned_note_reminder(note: ClinicalNote, encounter: Encounter) -> None:
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


def sync_custody_reminder(record: IvcRecord) -> None:
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


def cancel_note_reminders(note: ClinicalNote, reason: str) -> None:
    reminder_cancel_for(subject=note, reason=reason)
