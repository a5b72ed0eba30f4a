"""IVC time rules, the officer section, and the reminder rows clinical deadlines create."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.utils import timezone

from apps.clinical.models import Encounter, IvcRecord, OfficerSection
from apps.clinical.selectors import clinical_due_reminders
from apps.reminders.models import Reminder

from .conftest import write


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("times", "field"),
    [
        ({"petition_at": -5, "custody_order_at": -6}, "custody_order_at"),
        ({"custody_order_at": -5, "custody_taken_at": -6}, "custody_taken_at"),
        ({"custody_order_at": -30, "custody_taken_at": -4}, "custody_taken_at"),  # order expired after 24 h
        ({"custody_taken_at": -3, "first_exam_at": -4}, "first_exam_at"),
        ({"petition_at": 3}, "petition_at"),  # in the future
    ],
)
def test_impossible_ivc_time_orders_are_refused(
    api: Any, clinician_a: Any, encounter_a: Encounter, times: dict[str, int], field: str
) -> None:
    now = timezone.now()
    body: dict[str, Any] = {"pathway": "petition_122c_261"}
    body.update({k: iso(now + dt.timedelta(hours=h)) for k, h in times.items()})
    res = write(api(clinician_a), "put", f"/api/v1/clinical/encounters/{encounter_a.pk}/ivc/", body)
    assert res.status_code == 400, res.json()
    assert field in res.json()["errors"]
    assert not IvcRecord.objects.exists()


def test_naive_times_are_refused(api: Any, clinician_a: Any, encounter_a: Encounter) -> None:
    body = {"pathway": "petition_122c_261", "petition_at": "2026-03-08T02:30:00"}
    res = write(api(clinician_a), "put", f"/api/v1/clinical/encounters/{encounter_a.pk}/ivc/", body)
    assert res.status_code == 400
    assert "petition_at" in res.json()["errors"]


def test_custody_order_schedules_a_reminder_at_18h_and_custody_cancels_it(
    api: Any, clinician_a: Any, encounter_a: Encounter
) -> None:
    c = api(clinician_a)
    order = timezone.now() - dt.timedelta(hours=2)
    url = f"/api/v1/clinical/encounters/{encounter_a.pk}/ivc/"
    res = write(
        c,
        "put",
        url,
        {
            "pathway": "petition_122c_261",
            "petition_at": iso(order - dt.timedelta(hours=1)),
            "custody_order_at": iso(order),
        },
    )
    assert res.status_code == 200, res.json()
    reminder = Reminder.objects.get(kind=Reminder.Kind.IVC_CUSTODY_WINDOW)
    assert abs((reminder.due_at - (order + dt.timedelta(hours=18))).total_seconds()) < 1
    assert reminder.recipient == clinician_a
    assert "custody" in reminder.title.lower() and encounter_a.person is None  # no PHI in the title
    # The same due moment is what the selector reports once it passes.
    assert clinical_due_reminders(order + dt.timedelta(hours=18, seconds=1))[0].kind == "ivc_custody_window"
    assert clinical_due_reminders(order + dt.timedelta(hours=17)) == []
    # A stale revision is refused with the server's version.
    stale = write(c, "put", url, {"revision": 7, "custody_taken_at": iso(order + dt.timedelta(hours=1))})
    assert stale.status_code == 409
    assert stale.json()["current"]["revision"] == 1
    ok = write(c, "put", url, {"revision": 1, "custody_taken_at": iso(order + dt.timedelta(hours=1))})
    assert ok.status_code == 200, ok.json()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED


def test_closing_the_encounter_schedules_the_unsigned_note_reminder_and_signing_cancels_it(
    api: Any, clinician_a: Any, encounter_a: Encounter, note_a: Any, settings: Any
) -> None:
    c = api(clinician_a)
    closed = timezone.now()
    res = write(
        c,
        "patch",
        f"/api/v1/clinical/encounters/{encounter_a.pk}/",
        {"revision": encounter_a.revision, "closed_at": iso(closed)},
    )
    assert res.status_code == 200, res.json()
    reminder = Reminder.objects.get(kind=Reminder.Kind.NOTE_UNSIGNED)
    assert abs((reminder.due_at - (closed + dt.timedelta(hours=24))).total_seconds()) < 1
    assert reminder.subject_type == "clinical.clinicalnote" and reminder.subject_id == str(note_a.pk)
    assert [d.subject_id for d in clinical_due_reminders(closed + dt.timedelta(hours=25))] == [str(note_a.pk)]
    # Closing again (another edit) does not schedule a second reminder.
    write(
        c,
        "patch",
        f"/api/v1/clinical/encounters/{encounter_a.pk}/",
        {"revision": encounter_a.revision + 1, "ed_diverted": True},
    )
    assert Reminder.objects.filter(kind=Reminder.Kind.NOTE_UNSIGNED).count() == 1
    assert write(c, "post", f"/api/v1/clinical/notes/{note_a.pk}/sign/", {"revision": 1}).status_code == 200
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    assert clinical_due_reminders(closed + dt.timedelta(hours=25)) == []


def test_officer_section_rules(api: Any, officer_a: Any, encounter_a: Encounter) -> None:
    o = api(officer_a)
    url = f"/api/v1/clinical/encounters/{encounter_a.pk}/officer-section/"
    res = write(o, "put", url, {"police_action": "arrest", "use_of_force": True})
    assert res.status_code == 400
    assert "use_of_force_description" in res.json()["errors"]
    assert write(o, "put", url, {"police_action": "detain"}).status_code == 400
    assert write(o, "put", url, {"use_of_force": "no"}).status_code == 400
    ok = write(o, "put", url, {"police_action": "none", "transport": "police", "ivc_custody": True})
    assert ok.status_code == 200, ok.json()
    assert ok.json()["officer_section"]["transport"] == "police"
    missing = write(o, "put", url, {"transport": "ems"})  # it exists now: an edit must say its revision
    assert missing.status_code == 400 and "revision" in missing.json()["errors"]
    assert write(o, "put", url, {"revision": 1, "transport": "ems"}).status_code == 200
    assert OfficerSection.objects.get().revision == 2


def test_unknown_fields_and_oversize_text_are_refused(api: Any, clinician_a: Any, encounter_a: Encounter) -> None:
    c = api(clinician_a)
    url = f"/api/v1/clinical/encounters/{encounter_a.pk}/notes/"
    res = write(c, "post", url, {"id": str(uuid.uuid4()), "format": "dap", "narrative": "x"})
    assert res.status_code == 400 and "narrative" in res.json()["errors"]
    res = write(c, "post", url, {"id": str(uuid.uuid4()), "format": "dap", "sections": {"data": "x" * 20_001}})
    assert res.status_code == 400
    assert write(c, "post", url, {"id": "not-a-uuid", "format": "dap"}).status_code == 400


def test_custody_taken_starts_the_first_exam_window_and_the_exam_closes_it(
    api: Any, clinician_a: Any, encounter_a: Encounter
) -> None:
    from apps.reminders.registry import reminder_is_obsolete

    c = api(clinician_a)
    url = f"/api/v1/clinical/encounters/{encounter_a.pk}/ivc/"
    taken = timezone.now() - dt.timedelta(hours=1)
    body = {
        "pathway": "emergency_122c_262",
        "custody_order_at": iso(taken - dt.timedelta(hours=1)),
        "custody_taken_at": iso(taken),
    }
    assert write(c, "put", url, body).status_code == 200
    assert not Reminder.objects.filter(dedupe_key__contains=":custody:").exists()  # taken in the same write
    exam = Reminder.objects.get(dedupe_key__contains=":exam:")
    assert exam.status == Reminder.Status.SCHEDULED
    assert abs((exam.due_at - (taken + dt.timedelta(hours=18))).total_seconds()) < 1
    assert not reminder_is_obsolete(exam)
    assert (
        write(c, "put", url, {"revision": 1, "first_exam_at": iso(taken + dt.timedelta(minutes=30))}).status_code == 200
    )
    exam.refresh_from_db()
    assert exam.status == Reminder.Status.CANCELLED
    assert reminder_is_obsolete(exam)


def test_a_corrected_custody_order_time_moves_the_reminder(api: Any, clinician_a: Any, encounter_a: Encounter) -> None:
    c = api(clinician_a)
    url = f"/api/v1/clinical/encounters/{encounter_a.pk}/ivc/"
    first = timezone.now() - dt.timedelta(hours=3)
    write(c, "put", url, {"pathway": "petition_122c_261", "custody_order_at": iso(first)})
    write(c, "put", url, {"revision": 1, "custody_order_at": iso(first + dt.timedelta(hours=1))})
    scheduled = Reminder.objects.filter(status=Reminder.Status.SCHEDULED)
    assert scheduled.count() == 1
    assert abs((scheduled.get().due_at - (first + dt.timedelta(hours=19))).total_seconds()) < 1


def test_reopening_the_encounter_cancels_the_unsigned_note_reminder(
    api: Any, clinician_a: Any, encounter_a: Encounter, note_a: Any
) -> None:
    c = api(clinician_a)
    url = f"/api/v1/clinical/encounters/{encounter_a.pk}/"
    write(c, "patch", url, {"revision": encounter_a.revision, "closed_at": iso(timezone.now())})
    assert Reminder.objects.get().status == Reminder.Status.SCHEDULED
    assert write(c, "patch", url, {"revision": encounter_a.revision + 1, "closed_at": None}).status_code == 200
    assert Reminder.objects.get().status == Reminder.Status.CANCELLED
