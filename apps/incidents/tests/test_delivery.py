"""An offer's delivery escalation as incidents drives it: started by the offer inside its transaction,
resolved by accept / decline / cancel / expire, acknowledged by a team device's "seen" receipt."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any
from unittest import mock

import pytest
import pywebpush
from django.utils import timezone

from apps.incidents import services
from apps.incidents.models import Assignment
from apps.realtime.escalation import escalation_sweep
from apps.realtime.models import Device, Escalation, Event, PushSubscription
from apps.realtime.push import vapid_keys
from apps.realtime.receipts import receipt_record

pytestmark = pytest.mark.django_db

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


def device_of(user: Any) -> Device:
    device = Device.objects.create(id=uuid.uuid4(), user=user, last_seen_at=timezone.now())
    PushSubscription.objects.create(
        device=device, user=user, endpoint=f"https://push.test/{device.pk}", p256dh="k", auth="a"
    )
    return device


def escalation_of(assignment: Assignment) -> Escalation:
    return Escalation.objects.get(subject=f"assignment:{assignment.pk}")


def test_the_offer_starts_the_escalation_in_its_transaction_for_the_team(
    offered: Assignment, officer_a: Any, clinician_a: Any, dispatcher: Any
) -> None:
    esc = escalation_of(offered)
    offered_event = Event.objects.get(user=officer_a, type="assignment.offered")
    assert esc.event_uid == offered_event.uid
    assert esc.created_at == offered.offered_at and esc.team_label == "CR-A"
    assert set(esc.recipients.values_list("pk", flat=True)) == {officer_a.pk, clinician_a.pk}  # not the board
    assert esc.resolved_at is None


def test_a_refused_offer_starts_no_escalation(incident: Any, team_b: Any, dispatcher: Any) -> None:
    from apps.core.errors import Invalid

    with pytest.raises(Invalid):  # team B is not on duty
        services.assignment_offer(incident_id=incident.pk, team_id=team_b.pk, by=dispatcher)
    assert not Escalation.objects.exists()


def test_seen_on_a_team_device_acknowledges_the_assignment_and_stops_the_push(
    offered: Assignment, officer_a: Any, dispatcher: Any, webpush: Any
) -> None:
    device = device_of(officer_a)
    offered_event = Event.objects.get(user=officer_a, type="assignment.offered")
    receipt_record(user=officer_a, device_id=device.pk, stage="delivered", cursor=offered_event.seq)
    assert escalation_of(offered).delivered_at is not None
    receipt_record(user=officer_a, device_id=device.pk, stage="seen", cursor=offered_event.seq)
    offered.refresh_from_db()
    assert offered.status == Assignment.Status.ACKNOWLEDGED and offered.acknowledged_by == officer_a
    assert escalation_sweep(now=offered.offered_at + 30 * S)["push"] == 0
    webpush.assert_not_called()
    assert Event.objects.filter(user=dispatcher, type="assignment.acknowledged").exists()


def test_seen_after_the_offer_was_answered_keeps_the_receipt_and_changes_nothing(
    offered: Assignment, officer_a: Any, clinician_a: Any
) -> None:
    device = device_of(officer_a)
    offered_event = Event.objects.get(user=officer_a, type="assignment.offered")
    services.assignment_decline(assignment_id=offered.pk, by=clinician_a, reason="on another call")
    # The escalation was resolved by the decline: a late "seen" still counts as a receipt.
    assert receipt_record(user=officer_a, device_id=device.pk, stage="seen", cursor=offered_event.seq) is not None
    offered.refresh_from_db()
    assert offered.status == Assignment.Status.DECLINED


@pytest.mark.parametrize(
    ("answer", "resolution"),
    [
        (lambda a, u, d: services.assignment_accept(assignment_id=a.pk, by=u), "accepted"),
        (lambda a, u, d: services.assignment_decline(assignment_id=a.pk, by=u, reason="busy"), "declined"),
        (lambda a, u, d: services.assignment_cancel(assignment_id=a.pk, by=d, reason="duplicate call"), "cancelled"),
    ],
    ids=["accept", "decline", "cancel"],
)
def test_an_answered_offer_resolves_its_escalation_at_once_and_fires_nothing(
    offered: Assignment, officer_a: Any, dispatcher: Any, webpush: Any, answer: Any, resolution: str
) -> None:
    device_of(officer_a)
    answer(offered, officer_a, dispatcher)
    esc = escalation_of(offered)
    assert esc.resolved_at is not None and esc.resolution == resolution
    assert escalation_sweep(now=offered.offered_at + 200 * S) == {"push": 0, "alert": 0, "reassign": 0}
    webpush.assert_not_called()


def test_an_unanswered_offer_is_pushed_alerted_and_flagged(
    offered: Assignment, officer_a: Any, clinician_a: Any, dispatcher: Any, webpush: Any
) -> None:
    device_of(officer_a)
    device_of(clinician_a)
    at = offered.offered_at
    assert escalation_sweep(now=at + 1 * S) == {"push": 0, "alert": 0, "reassign": 0}
    assert escalation_sweep(now=at + 21 * S)["push"] == 1
    assert webpush.call_count == 2
    # "Open" lands on the assignment (the team home shows it full screen); no clinical text.
    sent = json.loads(webpush.call_args_list[0].kwargs["data"])
    assert sent["url"] == f"/team?assignment={offered.pk}"
    assert set(sent) == {"title", "body", "url", "tag"}
    assert escalation_sweep(now=at + 61 * S)["alert"] == 1
    assert escalation_sweep(now=at + 121 * S)["reassign"] == 1
    assert escalation_sweep(now=at + 200 * S) == {"push": 0, "alert": 0, "reassign": 0}


def test_an_offer_acknowledged_through_the_api_is_not_pushed(offered: Assignment, officer_a: Any, webpush: Any) -> None:
    device_of(officer_a)
    services.assignment_acknowledge(assignment_id=offered.pk, by=officer_a)
    assert escalation_sweep(now=offered.offered_at + 21 * S)["push"] == 0
    webpush.assert_not_called()
    assert escalation_of(offered).acknowledged_at is not None
