"""The SMS and voice stages against the local fake of Twilio: when they fire, to whom, what they say,
and that each goes out once whatever fails."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.notifications.models import Notification, PhoneNumber
from apps.notifications.services import notifications_sweep
from apps.notifications.tests.conftest import CLINICIAN_PHONE, OFFICER_PHONE, at, verify_phone
from apps.notifications.tests.fake_twilio import FakeTwilio
from apps.realtime.models import Device
from apps.realtime.receipts import receipt_record


def statuses() -> dict[tuple[int, str], str]:
    return {(n.user_id, n.channel): n.status for n in Notification.objects.all()}


def test_nothing_is_texted_before_40_seconds(fake_twilio: FakeTwilio, phones: Any, offer: Any) -> None:
    result = notifications_sweep(now=at(offer, 39))
    assert result.planned == 0 and fake_twilio.messages() == []


def test_an_unseen_offer_is_texted_once_to_each_member_at_40_seconds_without_address_name_or_call_type(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, clinician_a: Any, dispatcher: Any
) -> None:
    result = notifications_sweep(now=at(offer, 41))
    assert (result.planned, result.sent) == (2, 2)
    texts = {m.to: m.body for m in fake_twilio.messages()}
    assert set(texts) == {OFFICER_PHONE, CLINICIAN_PHONE}
    for body in texts.values():
        assert "CR-A" in body and "priority 8" in body and "Reply 1 to accept, 2 to decline" in body
        for secret in ("City Hall", "Jordan", "SUICTHRT", "suicid", "knife", "weapon", "crisis", "mental"):
            assert secret.lower() not in body.lower()
        assert len(body) <= 160
    assert statuses() == {(officer_a.pk, "sms"): "sent", (clinician_a.pk, "sms"): "sent"}
    assert all(n.provider_sid.startswith("SM") for n in Notification.objects.all())
    for _ in range(3):
        notifications_sweep(now=at(offer, 60))
    assert len(fake_twilio.messages()) == 2
    # The board hears of each text, without the number.
    from apps.realtime.models import Event

    frames = [e.data for e in Event.objects.filter(user=dispatcher, type="notification.stage")]
    assert {(f["user_id"], f["status"]) for f in frames} >= {(officer_a.pk, "sent"), (clinician_a.pk, "sent")}
    assert not any(OFFICER_PHONE in str(f) or CLINICIAN_PHONE in str(f) for f in frames)


def test_then_a_call_at_90_seconds(fake_twilio: FakeTwilio, phones: Any, offer: Any) -> None:
    notifications_sweep(now=at(offer, 41))
    assert fake_twilio.calls() == []
    result = notifications_sweep(now=at(offer, 91))
    assert result.sent == 2
    calls = fake_twilio.calls()
    assert {c.to for c in calls} == {OFFICER_PHONE, CLINICIAN_PHONE}
    assert all("/webhooks/twilio/voice/" in c.url and c.url.startswith("http://testserver") for c in calls)


def test_a_seen_offer_is_neither_texted_nor_called(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, clinician_a: Any
) -> None:
    from apps.realtime.models import Escalation

    device = Device.objects.create(
        id="6f1d1e4e-0000-4000-8000-000000000001", user=clinician_a, last_seen_at=timezone.now()
    )
    uid = Escalation.objects.get(subject=f"assignment:{offer.pk}").event_uid
    receipt_record(user=clinician_a, device_id=device.pk, stage="seen", event_uid=uid)
    notifications_sweep(now=at(offer, 91))
    assert fake_twilio.messages() == [] and fake_twilio.calls() == []
    assert Notification.objects.count() == 0


def test_seen_between_planning_and_sending_cancels_the_stage(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any
) -> None:
    from apps.notifications.services import notifications_plan
    from apps.realtime.models import Escalation

    assert notifications_plan(now=at(offer, 41)) == 2
    device = Device.objects.create(
        id="6f1d1e4e-0000-4000-8000-000000000002", user=officer_a, last_seen_at=timezone.now()
    )
    uid = Escalation.objects.get(subject=f"assignment:{offer.pk}").event_uid
    receipt_record(user=officer_a, device_id=device.pk, stage="seen", event_uid=uid)
    result = notifications_sweep(now=at(offer, 41))
    assert result.cancelled == 2 and fake_twilio.messages() == []
    assert set(Notification.objects.values_list("detail", flat=True)) == {"seen in the app"}


def test_an_accepted_offer_gets_no_call(fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any) -> None:
    from apps.incidents.services import assignment_accept

    notifications_sweep(now=at(offer, 41))
    assignment_accept(assignment_id=offer.pk, by=officer_a)
    notifications_sweep(now=at(offer, 91))
    assert fake_twilio.calls() == []


def test_members_without_a_verified_number_or_opted_out_are_skipped_and_the_board_says_why(
    fake_twilio: FakeTwilio, offer: Any, officer_a: Any, clinician_a: Any
) -> None:
    PhoneNumber.objects.create(user=officer_a, number=OFFICER_PHONE)  # never verified
    phone = verify_phone(clinician_a, CLINICIAN_PHONE)
    phone.sms_opted_out_at = timezone.now()
    phone.save()
    result = notifications_sweep(now=at(offer, 91))
    assert fake_twilio.messages() == []
    assert [c.to for c in fake_twilio.calls()] == [CLINICIAN_PHONE]  # STOP stops texts, not calls
    details = {(n.user_id, n.channel): (n.status, n.detail) for n in Notification.objects.all()}
    assert details[(officer_a.pk, "sms")] == ("skipped", "no verified phone number")
    assert details[(clinician_a.pk, "sms")] == ("skipped", "opted out of texts (STOP)")
    assert result.skipped == 3


def test_no_provider_configured_means_no_stage_at_all(settings: Any, phones: Any, offer: Any) -> None:
    result = notifications_sweep(now=at(offer, 200))
    assert result.as_dict()["planned"] == 0 and Notification.objects.count() == 0


def test_the_per_offer_cap_stops_runaway_costs(fake_twilio: FakeTwilio, phones: Any, offer: Any, settings: Any) -> None:
    settings.NOTIFICATIONS_MAX_PER_OFFER = 3
    notifications_sweep(now=at(offer, 91))
    assert len(fake_twilio.records) == 3
    (skipped,) = Notification.objects.filter(status="skipped")
    assert skipped.detail == "cap of 3 per offer reached"


def test_the_hourly_cap_counts_every_offer(fake_twilio: FakeTwilio, phones: Any, offer: Any, settings: Any) -> None:
    settings.NOTIFICATIONS_MAX_PER_HOUR = 1
    notifications_sweep(now=at(offer, 41))
    assert len(fake_twilio.messages()) == 1
    assert Notification.objects.get(status="skipped").detail == "cap of 1 per hour reached"


def test_a_provider_500_is_retried_with_backoff_and_sends_one_text(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, clinician_a: Any
) -> None:
    verify_phone(clinician_a, CLINICIAN_PHONE).delete()
    fake_twilio.fail_next(500)
    first = notifications_sweep(now=at(offer, 41))
    assert first.retried == 1 and fake_twilio.messages() == []
    row = Notification.objects.get(user=officer_a)
    assert (row.status, row.attempts, row.needs_reconcile) == ("scheduled", 1, True)
    assert "500" in row.detail
    assert notifications_sweep(now=at(offer, 42)).sent == 0  # the back-off (5 s) has not passed
    later = notifications_sweep(now=row.next_attempt_at)
    assert later.sent == 1 and len(fake_twilio.messages(OFFICER_PHONE)) == 1


def test_a_500_after_the_provider_created_the_text_is_reconciled_not_resent(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, clinician_a: Any
) -> None:
    verify_phone(clinician_a, CLINICIAN_PHONE).delete()
    fake_twilio.fail_next(502, after_create=True)
    notifications_sweep(now=at(offer, 41))
    (created,) = fake_twilio.messages(OFFICER_PHONE)
    row = Notification.objects.get(user=officer_a)
    result = notifications_sweep(now=row.next_attempt_at)
    assert result.reconciled == 1 and result.sent == 0
    assert len(fake_twilio.messages(OFFICER_PHONE)) == 1
    row.refresh_from_db()
    assert (row.status, row.provider_sid) == ("sent", created.sid)


def test_a_refused_number_fails_the_stage_without_retry_and_21610_records_the_opt_out(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, settings: Any
) -> None:
    from apps.notifications import provider as provider_module
    from apps.notifications.provider import ProviderError

    original = provider_module.TwilioProvider.send_sms

    def refuse(self: Any, *, to: str, body: str, status_callback: str | None) -> Any:
        if to == OFFICER_PHONE:
            raise ProviderError("Twilio 400 (21610): unsubscribed", transient=False, status=400, code=21610)
        return original(self, to=to, body=body, status_callback=status_callback)

    provider_module.TwilioProvider.send_sms = refuse  # type: ignore[method-assign]
    try:
        result = notifications_sweep(now=at(offer, 41))
    finally:
        provider_module.TwilioProvider.send_sms = original  # type: ignore[method-assign]
    assert result.failed == 1 and result.sent == 1
    assert Notification.objects.get(user=officer_a).status == "failed"
    assert PhoneNumber.objects.get(user=officer_a).sms_opted_out_at is not None


def test_transient_errors_give_up_after_the_last_attempt(
    fake_twilio: FakeTwilio, phones: Any, offer: Any, officer_a: Any, clinician_a: Any, settings: Any
) -> None:
    verify_phone(clinician_a, CLINICIAN_PHONE).delete()
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    fake_twilio.fail_next(503)
    fake_twilio.fail_next(503)
    notifications_sweep(now=at(offer, 41))
    row = Notification.objects.get(user=officer_a)
    notifications_sweep(now=row.next_attempt_at)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2) and fake_twilio.messages() == []


@pytest.mark.django_db(transaction=True)
def test_four_sweeps_at_once_text_each_member_once(fake_twilio: FakeTwilio, phones: Any, offer: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SKIP LOCKED)")
    moment = at(offer, 41)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            notifications_sweep(now=moment)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(m.to for m in fake_twilio.messages()) == sorted([OFFICER_PHONE, CLINICIAN_PHONE])
    assert Notification.objects.filter(status="sent").count() == 2


def _stuck(offer: Any, user: Any, number: str, *, minutes_ago: int = 5) -> Notification:
    """A row claimed by a worker that died before it stored the provider's answer."""
    from apps.notifications.services import notifications_plan

    notifications_plan(now=at(offer, 41))
    row = Notification.objects.get(user=user, channel="sms")
    claimed = timezone.now() - dt.timedelta(minutes=minutes_ago)
    Notification.objects.filter(pk=row.pk).update(
        status="sending", claimed_at=claimed, first_claimed_at=claimed, to_number=number
    )
    return Notification.objects.get(pk=row.pk)


def test_a_row_whose_worker_died_before_the_provider_got_it_is_sent_once_after_recovery(
    fake_twilio: FakeTwilio, offer: Any, officer_a: Any
) -> None:
    verify_phone(officer_a, OFFICER_PHONE)
    row = _stuck(offer, officer_a, OFFICER_PHONE)
    result = notifications_sweep(now=at(offer, 41))
    assert (result.recovered, result.reconciled, result.sent) == (1, 0, 1)
    assert len(fake_twilio.messages(OFFICER_PHONE)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)
    # Reconciling asked the provider first (a list of texts to that number).
    assert any(method == "GET" and path.endswith("/Messages.json") for method, path in fake_twilio.requests)


def test_a_status_callback_names_the_row_of_a_dead_worker_and_it_is_not_sent_again(
    fake_twilio: FakeTwilio, offer: Any, officer_a: Any
) -> None:
    from apps.notifications.services import notification_status_record

    verify_phone(officer_a, OFFICER_PHONE)
    row = _stuck(offer, officer_a, OFFICER_PHONE, minutes_ago=0)
    assert notification_status_record(token=row.token, sid="SM" + "1" * 32, status="sent")
    row.refresh_from_db()
    assert (row.status, row.provider_sid, row.provider_status) == ("sent", "SM" + "1" * 32, "sent")
    notifications_sweep(now=at(offer, 41) + dt.timedelta(minutes=10))
    assert fake_twilio.messages() == []
