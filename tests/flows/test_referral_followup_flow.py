"""End to end through the APIs: an encounter with a referral → a follow-up for the care navigator →
the reminder sweep at the due moment → an event and an e-mail without health information → the
navigator logs the contact → the remaining reminders are cancelled and never sent."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from apps.realtime.models import Event
from apps.referrals.models import Agency, FollowUp, Referral
from apps.reminders.models import Reminder
from apps.reminders.services import reminders_sweep

pytestmark = pytest.mark.django_db

MARKER = "ZEBRA-NARRATIVE-7731"
# Words that would disclose health information or identity if they reached a lock screen or mailbox.
FORBIDDEN = (MARKER, "Pat", "Doe", "outpatient", "mental", "Durham Center Access", "suicid", "risk")


def write(client: APIClient, method: str, url: str, body: Any) -> Any:
    res = getattr(client, method)(url, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert res.status_code in (200, 201), (url, res.status_code, res.json())
    return res.json()


def test_referral_to_follow_up_to_reminder_to_contact(
    api: Callable[[Any], APIClient],
    make_user: Callable[..., Any],
    clinician_a: Any,
    officer_a: Any,
    team_a: Any,
    on_shift_a: Any,
) -> None:
    navigator = make_user("navigator", "care_navigator", first="Nia")
    navigator.email = "nia@example.org"
    navigator.save(update_fields=["email"])
    clin_sup = make_user("clin_sup", "clinical_supervisor", first="Cora")
    clin_sup.email = "cora@example.org"
    clin_sup.save(update_fields=["email"])
    agency = Agency.objects.create(name="Durham Center Access", type="outpatient_mental_health")
    clinician = api(clinician_a)

    # The clinician documents the encounter and refers the person (clinical APIs, then ours).
    person = write(clinician, "post", "/api/v1/clinical/persons/", {"first_name": "Pat", "last_name": "Doe"})
    encounter_id = str(uuid.uuid4())
    write(
        clinician,
        "post",
        "/api/v1/clinical/encounters/",
        {
            "id": encounter_id,
            "kind": "incident",
            "team_id": team_a.pk,
            "officer_id": officer_a.pk,
            "person_id": person["id"],
        },
    )
    write(
        clinician,
        "post",
        f"/api/v1/clinical/encounters/{encounter_id}/dispositions/",
        {"code": "resolved_with_referral"},
    )
    referral_id = str(uuid.uuid4())
    write(
        clinician,
        "post",
        f"/api/v1/encounters/{encounter_id}/referrals/",
        {"id": referral_id, "type": "outpatient_mental_health", "agency_id": agency.pk, "notes": MARKER},
    )

    # The policy made a 48 h follow-up for the care navigator.
    followup = FollowUp.objects.get()
    assert (followup.assignee, followup.reason, str(followup.referral_id)) == (navigator, "referral", referral_id)
    queue = api(navigator).get("/api/v1/followups/?bucket=upcoming&assignee=me").json()["results"]
    assert [row["id"] for row in queue] == [followup.pk]

    # Nothing goes out early.
    mail.outbox.clear()
    reminders_sweep()
    assert not Event.objects.filter(type="reminder.due").exists()
    assert mail.outbox == []

    # At the due moment the sweep delivers the "coming due" and "due" reminders to the navigator.
    with time_machine.travel(followup.due_at, tick=False):
        result = reminders_sweep()
    assert result.sent == 2
    events = list(Event.objects.filter(user=navigator, type="reminder.due").order_by("seq"))
    assert [e.data["kind"] for e in events] == ["follow_up_before_due", "follow_up_due"]
    assert all(e.data["url"] == f"/followups/{followup.pk}" for e in events)
    assert [m.to for m in mail.outbox] == [["nia@example.org"], ["nia@example.org"]]
    due_mail = mail.outbox[1]
    assert "You have a follow-up due" in due_mail.body
    assert f"/followups/{followup.pk}" in due_mail.body
    for text in [f"{m.subject} {m.body}" for m in mail.outbox] + [str(e.data) for e in events]:
        for word in FORBIDDEN:
            assert word.lower() not in text.lower(), (word, text)
    escalation = Reminder.objects.get(kind="follow_up_overdue_escalation")
    assert (escalation.recipient, escalation.status) == (clin_sup, "scheduled")

    # The navigator reaches the person, who attended the referral: one call.
    with time_machine.travel(followup.due_at + dt.timedelta(hours=1), tick=False):
        body = write(
            api(navigator),
            "post",
            f"/api/v1/followups/{followup.pk}/attempts/",
            {"method": "phone", "outcome": "linked", "note": "Attended intake"},
        )
    assert body["status"] == "done"
    assert Referral.objects.get(pk=referral_id).status == "linked"
    escalation.refresh_from_db()
    assert escalation.status == "cancelled"

    # Past the escalation time, nothing more is sent to anyone.
    mail.outbox.clear()
    with time_machine.travel(followup.due_at + dt.timedelta(days=1), tick=False):
        assert reminders_sweep().sent == 0
    assert mail.outbox == []
    assert not Event.objects.filter(user=clin_sup, type="reminder.due").exists()
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent", "cancelled"}
