"""Receipts and escalation: each stage fires once, at its time, only while nobody has seen the offer."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any
from unittest import mock

import pytest
import pywebpush
from django.db import connection, transaction
from django.utils import timezone

from apps.realtime import escalation
from apps.realtime.escalation import escalation_resolve, escalation_start, escalation_sweep
from apps.realtime.models import Device, Escalation, Event, PushSubscription, Receipt
from apps.realtime.push import vapid_keys
from apps.realtime.receipts import receipt_record
from apps.realtime.services import event_emit

from .conftest import TEST_OFFER

S = dt.timedelta(seconds=1)


class Ok:
    status_code = 201
    text = ""


@pytest.fixture(autouse=True)
def keys(settings: Any) -> None:
    from apps.realtime.push import vapid_keys_generate

    k = vapid_keys_generate()
    settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_PUBLIC_KEY = k["private_key"], k["public_key"]
    vapid_keys.cache_clear()


@pytest.fixture
def webpush() -> Any:
    with mock.patch.object(pywebpush, "webpush", return_value=Ok()) as fake:
        yield fake


def device_of(user: Any, *, subscribed: bool = True) -> Device:
    device = Device.objects.create(id=uuid.uuid4(), user=user, last_seen_at=timezone.now())
    if subscribed:
        PushSubscription.objects.create(
            device=device, user=user, endpoint=f"https://push.test/{device.pk}", p256dh="k", auth="a"
        )
    return device


@pytest.fixture
def offer(officer_a: Any, clinician_a: Any, dispatcher: Any) -> Any:
    """A test subject offered to team A at ``at``; returns (escalation, offered event uid)."""
    at = timezone.now()
    with transaction.atomic():
        events = event_emit(type=TEST_OFFER, recipients=[officer_a, clinician_a, dispatcher], data={"n": 1})
        esc = escalation_start(
            subject="test:1", event_uid=events[0].uid, recipients=[officer_a, clinician_a], team_label="CR-A", at=at
        )
    return esc


def dispatcher_events(dispatcher: Any, type: str) -> list[Event]:
    return list(Event.objects.filter(user=dispatcher, type=type).order_by("seq"))


def cursor_of(user: Any, esc: Escalation) -> int:
    return int(Event.objects.get(user=user, uid=esc.event_uid).seq)


def test_nothing_fires_before_its_time(offer: Any, dispatcher: Any, webpush: Any, officer_a: Any) -> None:
    device_of(officer_a)
    fired = escalation_sweep(now=offer.created_at + 19 * S)
    assert fired["push"] == fired["alert"] == fired["reassign"] == 0
    webpush.assert_not_called()


def test_unseen_offer_is_pushed_to_every_team_device_once_at_20s(
    offer: Any, officer_a: Any, clinician_a: Any, officer_b: Any, dispatcher: Any, webpush: Any
) -> None:
    devices = [device_of(officer_a), device_of(officer_a), device_of(clinician_a), device_of(officer_b)]
    assert escalation_sweep(now=offer.created_at + 20 * S)["push"] == 1
    endpoints = sorted(c.kwargs["subscription_info"]["endpoint"] for c in webpush.call_args_list)
    assert endpoints == sorted(f"https://push.test/{d.pk}" for d in devices[:3])  # never team B's phone
    for call in webpush.call_args_list:
        assert call.kwargs["ttl"] == 86400 and call.kwargs["headers"]["Urgency"] == "high"
        assert '"tag": "test:1"' in call.kwargs["data"]
    (event,) = dispatcher_events(dispatcher, "delivery.escalated")
    assert event.data["subject"] == "test:1" and event.data["stage"] == "push"
    webpush.reset_mock()
    assert escalation_sweep(now=offer.created_at + 25 * S)["push"] == 0
    webpush.assert_not_called()


def test_unseen_offer_alerts_dispatchers_at_60s_and_flags_reassignment_at_120s_once(
    offer: Any, dispatcher: Any, webpush: Any
) -> None:
    escalation_sweep(now=offer.created_at + 59 * S)
    assert dispatcher_events(dispatcher, "delivery.alert") == []
    for _ in range(3):
        escalation_sweep(now=offer.created_at + 61 * S)
    assert len(dispatcher_events(dispatcher, "delivery.alert")) == 1
    assert dispatcher_events(dispatcher, "delivery.reassign") == []
    for _ in range(3):
        escalation_sweep(now=offer.created_at + 121 * S)
    (flag,) = dispatcher_events(dispatcher, "delivery.reassign")
    assert flag.data["team"] == "CR-A" and flag.data["stage"] == "reassign"


def test_a_seen_offer_is_neither_pushed_nor_alerted_but_still_flagged_if_not_accepted(
    offer: Any, officer_a: Any, dispatcher: Any, webpush: Any
) -> None:
    device = device_of(officer_a)
    receipt_record(user=officer_a, device_id=device.pk, stage="seen", cursor=cursor_of(officer_a, offer))
    fired = escalation_sweep(now=offer.created_at + 121 * S)
    assert (fired["push"], fired["alert"], fired["reassign"]) == (0, 0, 1)
    webpush.assert_not_called()


def test_delivered_alone_does_not_stop_the_push(offer: Any, officer_a: Any, webpush: Any) -> None:
    """A socket in a pocket acks frames; only *seen* means a person has the offer on screen."""
    device = device_of(officer_a)
    receipt_record(user=officer_a, device_id=device.pk, stage="delivered", cursor=cursor_of(officer_a, offer))
    offer.refresh_from_db()
    assert offer.delivered_at is not None and offer.acknowledged_at is None
    assert escalation_sweep(now=offer.created_at + 20 * S)["push"] == 1


def test_a_resolved_offer_fires_nothing(offer: Any, webpush: Any, dispatcher: Any) -> None:
    assert escalation_resolve(subject="test:1", resolution="accepted")
    fired = escalation_sweep(now=offer.created_at + 200 * S)
    assert (fired["push"], fired["alert"], fired["reassign"]) == (0, 0, 0)
    webpush.assert_not_called()


def test_the_dispatchers_own_screen_does_not_acknowledge_the_team(offer: Any, dispatcher: Any) -> None:
    device = device_of(dispatcher)
    assert (
        receipt_record(user=dispatcher, device_id=device.pk, stage="seen", cursor=cursor_of(dispatcher, offer)) is None
    )
    offer.refresh_from_db()
    assert offer.acknowledged_at is None and not Receipt.objects.exists()


def test_receipts_are_per_device_written_once_and_shown_to_dispatchers(
    offer: Any, officer_a: Any, clinician_a: Any, dispatcher: Any
) -> None:
    phone, tablet = device_of(officer_a), device_of(officer_a)
    cursor = cursor_of(officer_a, offer)
    receipt_record(user=officer_a, device_id=phone.pk, stage="delivered", cursor=cursor)
    receipt_record(user=officer_a, device_id=phone.pk, stage="delivered", cursor=cursor)  # repeat: no change
    receipt_record(user=officer_a, device_id=tablet.pk, stage="seen", event_uid=offer.event_uid)
    receipts = {r.device_id: r for r in Receipt.objects.all()}
    assert receipts[phone.pk].delivered_at and receipts[phone.pk].seen_at is None
    assert receipts[tablet.pk].delivered_at and receipts[tablet.pk].seen_at
    updates = dispatcher_events(dispatcher, "delivery.updated")
    assert [(u.data["device_id"], bool(u.data["seen_at"])) for u in updates] == [
        (str(phone.pk), False),
        (str(tablet.pk), True),
    ]
    assert all(u.data["subject"] == "test:1" for u in updates)
    # The officer never receives the board's delivery events.
    assert not Event.objects.filter(user=officer_a, type__startswith="delivery.").exists()


def test_receipts_only_for_receipt_event_types(officer_a: Any) -> None:
    device = device_of(officer_a)
    with transaction.atomic():
        (event,) = event_emit(type="test.event", recipients=[officer_a], data={"n": 1})
    assert receipt_record(user=officer_a, device_id=device.pk, stage="seen", cursor=event.seq) is None
    assert not Receipt.objects.exists()


def test_receipt_for_someone_elses_event_is_not_found(offer: Any, officer_b: Any) -> None:
    from apps.core.errors import NotFound

    device = device_of(officer_b)
    with pytest.raises(NotFound):
        receipt_record(user=officer_b, device_id=device.pk, stage="seen", event_uid=offer.event_uid)


def test_receipt_api_records_and_validates(api: Any, offer: Any, officer_a: Any) -> None:
    device = device_of(officer_a)
    url = "/api/v1/events/receipts/"
    ok = api(officer_a).post(
        url, {"device": str(device.pk), "stage": "seen", "id": str(offer.event_uid)}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["recorded"] is True and ok.json()["seen_at"]
    # Sent again (the client had no confirmation): the same answer, nothing written or emitted again.
    updates = Event.objects.filter(type="delivery.updated").count()
    # With both, the id wins: a wrong cursor (a reset stream) does not name another event.
    again = api(officer_a).post(
        url, {"device": str(device.pk), "stage": "seen", "id": str(offer.event_uid), "cursor": 999}, format="json"
    )
    assert again.status_code == 200 and again.json() == ok.json()
    assert Event.objects.filter(type="delivery.updated").count() == updates
    neither = api(officer_a).post(url, {"device": str(device.pk), "stage": "seen"}, format="json")
    assert neither.status_code == 400 and "cursor" in neither.json()["errors"]
    bad = api(officer_a).post(url, {"device": str(device.pk), "stage": "read", "cursor": 1}, format="json")
    assert bad.status_code == 400 and "stage" in bad.json()["errors"]
    unknown = api(officer_a).post(url, {"device": str(uuid.uuid4()), "stage": "seen", "cursor": 1}, format="json")
    assert unknown.status_code == 404


def test_board_shows_each_offer_with_device_receipts(api: Any, offer: Any, officer_a: Any, dispatcher: Any) -> None:
    device = device_of(officer_a)
    receipt_record(user=officer_a, device_id=device.pk, stage="seen", cursor=cursor_of(officer_a, offer))
    rows = api(dispatcher).get("/api/v1/delivery/board/").json()
    assert rows[0]["subject"] == "test:1" and rows[0]["acknowledged_at"]
    assert rows[0]["devices"][0]["device_id"] == str(device.pk) and rows[0]["devices"][0]["seen_at"]
    assert api(officer_a).get("/api/v1/delivery/board/").status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_fire_each_stage_exactly_once(
    officer_a: Any, clinician_a: Any, dispatcher: Any, webpush: Any
) -> None:
    device_of(officer_a)
    start = timezone.now() - dt.timedelta(minutes=3)
    with transaction.atomic():
        for i in range(10):
            events = event_emit(type=TEST_OFFER, recipients=[officer_a, clinician_a], data={"n": i})
            escalation_start(
                subject=f"test:{i}", event_uid=events[0].uid, recipients=[officer_a, clinician_a], at=start
            )
    barrier = threading.Barrier(4)
    totals: list[dict[str, int]] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                totals.append(escalation_sweep())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(t["push"] for t in totals) == 10
    assert sum(t["alert"] for t in totals) == 10
    assert sum(t["reassign"] for t in totals) == 10
    assert webpush.call_count == 10  # one subscribed device, ten offers, once each
    for type in ("delivery.escalated", "delivery.alert", "delivery.reassign"):
        assert len(dispatcher_events(dispatcher, type)) == 10


def test_hooks_of_unknown_subject_kinds_default_to_pending() -> None:
    hooks, ident = escalation._hooks_of("nothing:5")
    assert ident == "5" and hooks.state is None
