"""The delivery board says, per member, which stage reached them: push, SMS delivered, call answered,
replied; "off" when no provider is configured."""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import reverse
from django.utils import timezone

from apps.notifications.models import Notification
from apps.notifications.services import notification_status_record, notifications_sweep
from apps.notifications.tests.conftest import OFFICER_PHONE, at
from apps.notifications.tests.fake_twilio import FakeTwilio, new_sid
from apps.realtime.models import Device, PushSubscription


def board_row(api: Any, dispatcher: Any, offer: Any) -> dict[str, Any]:
    rows = api(dispatcher).get(reverse("delivery-board")).json()
    return next(r for r in rows if r["subject"] == f"assignment:{offer.pk}")


def test_the_board_shows_each_members_stages(
    fake_twilio: FakeTwilio,
    phones: Any,
    offer: Any,
    officer_a: Any,
    clinician_a: Any,
    dispatcher: Any,
    api: Any,
    twilio_post: Any,
    django_assert_max_num_queries: Any,
) -> None:
    device = Device.objects.create(id=uuid.uuid4(), user=officer_a, last_seen_at=timezone.now())
    PushSubscription.objects.create(device=device, user=officer_a, endpoint="https://push.test/1", p256dh="k", auth="a")
    notifications_sweep(now=at(offer, 91))
    sms = Notification.objects.get(user=officer_a, channel="sms")
    notification_status_record(token=sms.token, sid=sms.provider_sid, status="delivered")
    call = Notification.objects.get(user=clinician_a, channel="voice")
    notification_status_record(token=call.token, sid=call.provider_sid, status="in-progress")
    twilio_post("notifications-twilio-sms", {"MessageSid": new_sid("SM"), "From": OFFICER_PHONE, "Body": "1"})
    row = board_row(api, dispatcher, offer)
    assert row["phone_stages"] == "on"
    reach = {r["user_id"]: r for r in row["reach"]}
    officer, clinician = reach[officer_a.pk], reach[clinician_a.pk]
    assert officer["push"]["subscribed"] is True and clinician["push"] == {"subscribed": False, "sent_at": None}
    assert officer["sms"]["provider_status"] == "delivered" and officer["sms"]["delivered_at"]
    assert officer["reply"]["action"] == "accept" and officer["reply"]["channel"] == "sms"
    assert clinician["voice"]["answered_at"] and clinician["reply"] is None
    assert OFFICER_PHONE not in str(row)
    with django_assert_max_num_queries(12):
        api(dispatcher).get(reverse("delivery-board"))


def test_the_board_says_when_phone_stages_are_off(offer: Any, dispatcher: Any, api: Any) -> None:
    row = board_row(api, dispatcher, offer)
    assert row["phone_stages"] == "off"
    assert all(r["sms"] is None and r["voice"] is None for r in row["reach"])
