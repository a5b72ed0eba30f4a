"""Replies by text and keypad: signed, idempotent on the provider's id, only from the verified number,
only while the offer is open; STOP / START / HELP as carriers require."""

from __future__ import annotations

from typing import Any

from apps.incidents.models import Assignment
from apps.notifications.models import Inbound, Notification, PhoneNumber
from apps.notifications.services import notifications_sweep
from apps.notifications.tests.conftest import OFFICER_PHONE, at
from apps.notifications.tests.fake_twilio import FakeTwilio, iter_twiml_says, new_sid, twiml_text
from apps.security.models import SecurityEvent


def status_of(assignment: Any) -> str:
    return str(Assignment.objects.get(pk=assignment.pk).status)


def text(twilio_post: Any, body: str, *, sid: str | None = None, number: str = OFFICER_PHONE, **kw: Any) -> Any:
    params = {"MessageSid": sid or new_sid("SM"), "From": number, "To": "+19195550000", "Body": body}
    return twilio_post("notifications-twilio-sms", params, **kw)


def test_reply_1_accepts_the_offer_once_even_when_the_webhook_comes_twice(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, twilio_post: Any
) -> None:
    notifications_sweep(now=at(offer, 41))
    sid = new_sid("SM")
    first = text(twilio_post, " 1 ", sid=sid)
    assert first.status_code == 200 and first["Content-Type"].startswith("text/xml")
    assert twiml_text(first.content.decode()) == "Accepted for CR-A. Open the app for the details."
    assignment = Assignment.objects.get(pk=offer.pk)
    assert (assignment.status, assignment.accepted_by_id) == ("accepted", officer_a.pk)
    again = text(twilio_post, " 1 ", sid=sid)  # Twilio's retry / a replay of the same request
    assert again.content == first.content
    assert Inbound.objects.filter(outcome="accepted").count() == 1
    row = Notification.objects.get(user=officer_a, channel="sms")
    assert (row.reply, row.replied_at is not None) == ("accept", True)


def test_reply_2_declines_with_the_documented_reason(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, twilio_post: Any, settings: Any
) -> None:
    notifications_sweep(now=at(offer, 41))
    answer = text(twilio_post, "2")
    assert twiml_text(answer.content.decode()) == "Declined for CR-A. Dispatch has been told."
    assignment = Assignment.objects.get(pk=offer.pk)
    assert (assignment.status, assignment.end_reason) == ("declined", settings.NOTIFICATIONS_DECLINE_REASON)


def test_a_late_reply_changes_nothing_and_gets_a_polite_answer(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, clinician_a: Any, twilio_post: Any
) -> None:
    from apps.incidents.services import assignment_accept

    notifications_sweep(now=at(offer, 41))
    assignment_accept(assignment_id=offer.pk, by=clinician_a)
    answer = text(twilio_post, "2")
    assert "no longer open (accepted)" in twiml_text(answer.content.decode())
    assert status_of(offer) == "accepted"
    (late,) = Inbound.objects.all()
    assert (late.outcome, late.command, late.detail) == ("late", "decline", "assignment is accepted")


def test_a_reply_from_an_unknown_or_unverified_number_changes_nothing(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, twilio_post: Any
) -> None:
    notifications_sweep(now=at(offer, 41))
    stranger = text(twilio_post, "1", number="+19195550199")
    assert "not set up for replies" in twiml_text(stranger.content.decode())
    PhoneNumber.objects.filter(user=officer_a).update(verified_at=None)
    unverified = text(twilio_post, "1")
    assert "not set up for replies" in twiml_text(unverified.content.decode())
    assert status_of(offer) == "offered"
    assert list(Inbound.objects.values_list("outcome", flat=True)) == ["unknown_sender", "unknown_sender"]


def test_a_reply_without_any_offer_or_not_understood(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, twilio_post: Any
) -> None:
    nothing = text(twilio_post, "1")  # no text was sent to this person
    assert "no open call offer" in twiml_text(nothing.content.decode())
    notifications_sweep(now=at(offer, 41))
    # Free text is never stored: only what we understood of it.
    odd = text(twilio_post, "Cannot, with patient Jane Roe at Duke")
    assert "Reply 1 to accept or 2 to decline" in twiml_text(odd.content.decode())
    assert status_of(offer) == "offered"
    assert "Jane" not in str(list(Inbound.objects.values()))


def test_forged_or_altered_webhooks_are_refused_audited_and_change_nothing(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, twilio_post: Any
) -> None:
    notifications_sweep(now=at(offer, 41))
    forged = text(twilio_post, "1", signature="bm90IGEgc2lnbmF0dXJl")
    unsigned = text(twilio_post, "1", signature="")
    assert forged.status_code == unsigned.status_code == 403
    from django.test import Client
    from django.urls import reverse
    from twilio.request_validator import RequestValidator

    from apps.notifications.tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN

    path = reverse("notifications-twilio-sms")
    signed = {"AccountSid": ACCOUNT_SID, "MessageSid": new_sid("SM"), "From": OFFICER_PHONE, "Body": "2"}
    sig = RequestValidator(AUTH_TOKEN).compute_signature("http://testserver" + path, signed)
    altered = Client().post(path, {**signed, "Body": "1"}, HTTP_X_TWILIO_SIGNATURE=sig)
    assert altered.status_code == 403
    # Signed for another address (the request URL is not trusted: the configured public one is).
    other = RequestValidator(AUTH_TOKEN).compute_signature("http://evil.example" + path, signed)
    assert Client().post(path, signed, HTTP_X_TWILIO_SIGNATURE=other).status_code == 403
    assert status_of(offer) == "offered" and Inbound.objects.count() == 0
    assert SecurityEvent.objects.filter(kind="apikey.signature_failed", details__source="twilio").count() == 4


def test_webhooks_are_rate_limited_per_address(
    fake_twilio: FakeTwilio, twilio_post: Any, settings: Any, db: Any
) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.NOTIFICATIONS_WEBHOOK_RATE = "2/min"
    codes = [text(twilio_post, "HELP").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_webhooks_answer_503_when_no_provider_is_configured(twilio_post: Any, db: Any) -> None:
    assert text(twilio_post, "1").status_code == 503


def test_webhooks_take_only_post(fake_twilio: FakeTwilio, client: Any, db: Any) -> None:
    assert client.get("/webhooks/twilio/sms/").status_code == 405


def test_stop_records_the_opt_out_and_start_undoes_it_help_answers(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, twilio_post: Any
) -> None:
    stop = text(twilio_post, "STOP")
    assert twiml_text(stop.content.decode()) == ""  # Twilio answers STOP itself
    assert PhoneNumber.objects.get(user=officer_a).sms_opted_out_at is not None
    notifications_sweep(now=at(offer, 41))
    assert fake_twilio.messages(OFFICER_PHONE) == []
    start = text(twilio_post, "start")
    assert twiml_text(start.content.decode()) == ""
    assert PhoneNumber.objects.get(user=officer_a).sms_opted_out_at is None
    helped = text(twilio_post, "HELP")
    assert "Reply STOP to stop texts" in twiml_text(helped.content.decode())
    assert list(Inbound.objects.order_by("id").values_list("outcome", flat=True)) == ["opted_out", "opted_in", "help"]


def test_opt_out_type_from_twilio_wins(fake_twilio: FakeTwilio, phones: Any, officer_a: Any, twilio_post: Any) -> None:
    params = {"MessageSid": new_sid("SM"), "From": OFFICER_PHONE, "Body": "arrêt", "OptOutType": "STOP"}
    assert twilio_post("notifications-twilio-sms", params).status_code == 200
    assert PhoneNumber.objects.get(user=officer_a).sms_opted_out_at is not None


def voice(twilio_post: Any, row: Notification, name: str, **params: str) -> Any:
    base = {"CallSid": row.provider_sid, "To": row.to_number, "From": "+19195550000", "CallStatus": "in-progress"}
    return twilio_post(name, {**base, **params}, kwargs={"notification_token": row.token})


def test_a_call_reads_the_offer_and_digit_2_declines(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, twilio_post: Any
) -> None:
    notifications_sweep(now=at(offer, 91))
    row = Notification.objects.get(user=officer_a, channel="voice")
    answered = voice(twilio_post, row, "notifications-twilio-voice")
    said = " ".join(iter_twiml_says(answered.content.decode()))
    assert "C R - A" in said and "priority 8" in said and "Press 1 to accept" in said
    for secret in ("City Hall", "Jordan", "knife", "suicid"):
        assert secret.lower() not in said.lower()
    row.refresh_from_db()
    assert row.answered_at is not None
    wrong = voice(twilio_post, row, "notifications-twilio-gather", Digits="9")
    assert "Press 1 to accept or 2 to decline" in " ".join(iter_twiml_says(wrong.content.decode()))
    declined = voice(twilio_post, row, "notifications-twilio-gather", Digits="2")
    assert "Declined for CR-A" in " ".join(iter_twiml_says(declined.content.decode()))
    assert status_of(offer) == "declined"
    replay = voice(twilio_post, row, "notifications-twilio-gather", Digits="1")  # same call: one action
    assert replay.content == declined.content and status_of(offer) == "declined"


def test_a_call_to_a_number_that_is_no_longer_theirs_does_not_count(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, twilio_post: Any
) -> None:
    notifications_sweep(now=at(offer, 91))
    row = Notification.objects.get(user=officer_a, channel="voice")
    PhoneNumber.objects.filter(user=officer_a).update(number="+19195550177")
    answer = voice(twilio_post, row, "notifications-twilio-gather", Digits="1")
    assert "not set up for replies" in " ".join(iter_twiml_says(answer.content.decode()))
    assert status_of(offer) == "offered"


def test_a_call_answered_after_the_offer_closed_says_so(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, dispatcher: Any, twilio_post: Any
) -> None:
    from apps.incidents.services import assignment_cancel

    notifications_sweep(now=at(offer, 91))
    row = Notification.objects.get(user=officer_a, channel="voice")
    assignment_cancel(assignment_id=offer.pk, by=dispatcher, reason="handled by phone")
    answered = voice(twilio_post, row, "notifications-twilio-voice")
    assert "no longer open" in " ".join(iter_twiml_says(answered.content.decode()))


def test_status_callbacks_record_delivery_and_never_go_backwards(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, twilio_post: Any
) -> None:
    notifications_sweep(now=at(offer, 41))
    row = Notification.objects.get(user=officer_a, channel="sms")
    for status in ("sent", "delivered", "sent"):
        response = twilio_post(
            "notifications-twilio-status",
            {"MessageSid": row.provider_sid, "MessageStatus": status},
            kwargs={"notification_token": row.token},
        )
        assert response.status_code == 200
    row.refresh_from_db()
    assert row.provider_status == "delivered" and row.delivered_at is not None
    other = twilio_post(
        "notifications-twilio-status",
        {"MessageSid": new_sid("SM"), "MessageStatus": "failed"},
        kwargs={"notification_token": row.token},
    )
    assert other.status_code == 200
    row.refresh_from_db()
    assert row.provider_status == "delivered"  # another message's status is not this row's
