"""SMS and voice escalation end to end: the real ``twilio`` client against the local fake of Twilio's
REST API, and the fake's *signed* webhooks (status callbacks, a text reply, a call and its keypad)
against the real webhook views of the live app.

offer → nobody sees it → push (20 s) → SMS (40 s) → reply "1" → accepted: the team's phones get the
event, the board shows who was reached how; a call (90 s) answered with 2 → declined; a forged
webhook → refused, nothing changed; a reply after the offer closed → nothing changed, polite answer.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.urls import reverse
from django.utils import timezone

from apps.incidents.models import Assignment
from apps.incidents.services import assignment_cancel, assignment_offer, incident_create
from apps.notifications.models import Inbound, Notification, PhoneNumber
from apps.notifications.services import notifications_sweep
from apps.notifications.tests.fake_twilio import FakeTwilio, iter_twiml_says, twiml_text
from apps.realtime.escalation import escalation_sweep
from apps.realtime.models import Device, Escalation, Event, PushSubscription
from apps.realtime.push import vapid_keys, vapid_keys_generate
from apps.security.models import SecurityEvent

pytestmark = pytest.mark.django_db(transaction=True)

OFFICER = "+19195550101"
CLINICIAN = "+19195550102"
S = dt.timedelta(seconds=1)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def team(on_shift_a: Any, officer_a: Any, clinician_a: Any, settings: Any) -> Any:
    now = timezone.now()
    for user, number in ((officer_a, OFFICER), (clinician_a, CLINICIAN)):
        PhoneNumber.objects.create(user=user, number=number, verified_at=now)
    keys = vapid_keys_generate()
    settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_PUBLIC_KEY = keys["private_key"], keys["public_key"]
    vapid_keys.cache_clear()
    return on_shift_a


def subscribe(user: Any, fake: FakeTwilio) -> None:
    """A real Web Push subscription (its keys let pywebpush encrypt) whose push service is the fake."""
    device = Device.objects.create(id=uuid.uuid4(), user=user, last_seen_at=timezone.now())
    public = (
        ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    PushSubscription.objects.create(
        device=device,
        user=user,
        endpoint=f"{fake.base_url}/push/{user.username}",
        p256dh=_b64(public),
        auth=_b64(b"0123456789abcdef"),
    )


def offer_to(team: Any, dispatcher: Any) -> tuple[Assignment, dt.datetime]:
    incident = incident_create(
        by=dispatcher,
        values={
            "call_type_code": "SUICTHRT",
            "priority": 8,
            "address": "101 City Hall Plaza",
            "subject_name": "Jordan Example",
        },
    )
    assignment = assignment_offer(incident_id=incident.pk, team_id=team.team_id, by=dispatcher)
    escalation_sweep()  # the escalation row (incidents may start it itself at offer time)
    offered = Escalation.objects.get(subject=f"assignment:{assignment.pk}").created_at
    return assignment, offered


def status_of(assignment: Assignment) -> str:
    return str(Assignment.objects.get(pk=assignment.pk).status)


def test_unseen_offer_push_then_sms_then_reply_1_accepts_and_everyone_sees_it(
    live_fake_twilio: FakeTwilio, team: Any, officer_a: Any, clinician_a: Any, dispatcher: Any, api: Any
) -> None:
    fake = live_fake_twilio
    subscribe(officer_a, fake)
    assignment, offered = offer_to(team, dispatcher)

    assert escalation_sweep(now=offered + 21 * S)["push"] == 1
    assert fake.pushes == ["/push/officer_a"]
    assert notifications_sweep(now=offered + 39 * S).sent == 0
    assert notifications_sweep(now=offered + 41 * S).sent == 2
    (text,) = fake.messages(OFFICER)
    assert text.body.startswith("Durham Co-Response CR-A: new call offer, priority 8.")
    assert "City Hall" not in text.body and "Jordan" not in text.body and "SUICTHRT" not in text.body

    fake.deliver(text)  # signed status callbacks: sent, delivered
    answer = fake.text_from(OFFICER, "1")
    assert answer.status_code == 200
    assert twiml_text(answer.text) == "Accepted for CR-A. Open the app for the details."

    accepted = Assignment.objects.get(pk=assignment.pk)
    assert (accepted.status, accepted.accepted_by_id) == ("accepted", officer_a.pk)
    # The phones: both members' event streams carry the acceptance (their apps close the offer).
    for member in (officer_a, clinician_a):
        assert Event.objects.filter(user=member, type="assignment.accepted", data__assignment_id=assignment.pk).exists()
    # The board: per member, which stage reached them.
    rows = api(dispatcher).get(reverse("delivery-board")).json()
    row = next(r for r in rows if r["subject"] == f"assignment:{assignment.pk}")
    reach = {r["user_id"]: r for r in row["reach"]}
    assert reach[officer_a.pk]["push"]["sent_at"] is not None
    assert reach[officer_a.pk]["sms"]["provider_status"] == "delivered"
    assert reach[officer_a.pk]["reply"] == {
        "action": "accept",
        "channel": "sms",
        "at": reach[officer_a.pk]["sms"]["replied_at"],
    }
    assert reach[clinician_a.pk]["sms"]["status"] == "sent" and reach[clinician_a.pk]["reply"] is None
    stages = Event.objects.filter(user=dispatcher, type="notification.stage", data__user_id=officer_a.pk)
    assert {e.data["provider_status"] for e in stages} >= {"queued", "delivered"}
    assert any(e.data["reply"] == "accept" for e in stages)
    # Accepted: no call follows.
    notifications_sweep(now=offered + 91 * S)
    assert fake.calls() == []


def test_a_call_answered_with_digit_2_declines(
    live_fake_twilio: FakeTwilio, team: Any, officer_a: Any, clinician_a: Any, dispatcher: Any, api: Any, settings: Any
) -> None:
    fake = live_fake_twilio
    assignment, offered = offer_to(team, dispatcher)
    notifications_sweep(now=offered + 41 * S)
    assert notifications_sweep(now=offered + 91 * S).sent == 2
    (call,) = fake.calls(CLINICIAN)
    said, final = fake.answer(call, "2")
    assert "has a new call offer, priority 8" in said and "Press 2 to decline" in said
    assert "City Hall" not in said and "Jordan" not in said
    assert "Declined for CR-A." in " ".join(iter_twiml_says(final))
    declined = Assignment.objects.get(pk=assignment.pk)
    assert (declined.status, declined.ended_by_id, declined.end_reason) == (
        "declined",
        clinician_a.pk,
        settings.NOTIFICATIONS_DECLINE_REASON,
    )
    row = Notification.objects.get(user=clinician_a, channel="voice")
    assert (row.provider_status, row.reply) == ("completed", "decline") and row.answered_at is not None
    rows = api(dispatcher).get(reverse("delivery-board")).json()
    reach = {r["user_id"]: r for r in next(r for r in rows if r["subject"] == f"assignment:{assignment.pk}")["reach"]}
    assert reach[clinician_a.pk]["voice"]["answered_at"] and reach[clinician_a.pk]["reply"]["action"] == "decline"


def test_a_forged_reply_is_refused_and_changes_nothing(
    live_fake_twilio: FakeTwilio, team: Any, dispatcher: Any
) -> None:
    fake = live_fake_twilio
    assignment, offered = offer_to(team, dispatcher)
    notifications_sweep(now=offered + 41 * S)
    forged = fake.text_from(OFFICER, "1", signature="Zm9yZ2VkLXNpZ25hdHVyZQ==")
    assert forged.status_code == 403
    assert status_of(assignment) == "offered"
    assert not Inbound.objects.exists()
    assert SecurityEvent.objects.filter(kind="apikey.signature_failed").count() == 1
    # A status callback for the text with a bad signature does not touch it either.
    (text,) = fake.messages(OFFICER)
    response = fake.post_signed(
        text.status_callback,
        {"AccountSid": "AC" + "f" * 32, "MessageSid": text.sid, "MessageStatus": "delivered"},
        signature="Zm9yZ2Vk",
    )
    assert response.status_code == 403
    assert Notification.objects.get(provider_sid=text.sid).delivered_at is None


def test_a_reply_after_the_offer_closed_changes_nothing_and_gets_a_polite_answer(
    live_fake_twilio: FakeTwilio, team: Any, dispatcher: Any
) -> None:
    fake = live_fake_twilio
    assignment, offered = offer_to(team, dispatcher)
    notifications_sweep(now=offered + 41 * S)
    assignment_cancel(assignment_id=assignment.pk, by=dispatcher, reason="caller called back")
    answer = fake.text_from(OFFICER, "1")
    assert answer.status_code == 200
    assert (
        twiml_text(answer.text) == "This call offer is no longer open (cancelled). Nothing was changed. Open the app."
    )
    assert status_of(assignment) == "cancelled"
    (late,) = Inbound.objects.all()
    assert (late.outcome, late.command) == ("late", "accept")
