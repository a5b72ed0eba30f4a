"""Scheduling, cancelling and the sweep: each reminder out once per channel, never early, never
when obsolete, and never with health information in what leaves the building."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from apps.core.errors import Invalid
from apps.realtime.models import Event
from apps.realtime.push import push_send_to_user
from apps.reminders import channels, services
from apps.reminders.models import Delivery, Reminder
from apps.reminders.registry import register_obsolescence_check, unregister_obsolescence_check
from apps.reminders.services import (
    SubjectRef,
    reminder_cancel_by_key_prefix,
    reminder_cancel_for,
    reminders_recover_stuck,
    reminders_sweep,
)

from .conftest import FakePush

pytestmark = pytest.mark.django_db

Schedule = Callable[..., Reminder]
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def claire(clinician_a: Any) -> Any:
    clinician_a.email = "claire@example.org"
    clinician_a.save(update_fields=["email"])
    return clinician_a


def reminder_events(reminder: Reminder) -> list[Event]:
    return [e for e in Event.objects.filter(type="reminder.due") if e.data["reminder_id"] == reminder.pk]


def test_scheduling_the_same_dedupe_key_twice_keeps_one_reminder(schedule: Schedule, claire: Any) -> None:
    first = schedule(claire, dedupe_key="referral:1:followup:1:due")
    again = schedule(claire, dedupe_key="referral:1:followup:1:due", due_in=dt.timedelta(hours=5))
    assert again.pk == first.pk
    assert again.due_at == first.due_at
    assert Reminder.objects.count() == 1


def test_schedule_names_a_model_subject_by_label_and_id(schedule: Schedule, claire: Any, team_a: Any) -> None:
    reminder = schedule(claire, subject=team_a)
    assert (reminder.subject_type, reminder.subject_id) == ("teams.team", str(team_a.pk))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"due_at": dt.datetime(2026, 6, 1, 9, 0)}, "due_at"),  # noqa: DTZ001 - the naive value is the point
        ({"url": "https://evil.example/phish"}, "url"),
        ({"url": "//evil.example/x"}, "url"),
        ({"title": " "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"kind": "nonsense"}, "kind"),
        ({"dedupe_key": ""}, "dedupe_key"),
    ],
)
def test_invalid_reminders_are_refused_with_field_errors(
    schedule: Schedule, claire: Any, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        schedule(claire, **overrides)
    assert field in caught.value.errors
    assert Reminder.objects.count() == 0


def test_sweep_sends_due_reminders_on_every_channel_and_marks_them_sent(
    schedule: Schedule, claire: Any, fake_push: FakePush
) -> None:
    fake_push.devices[claire.pk] = 2
    due = schedule(claire, due_in=-MINUTE, title="Check-in call")
    later = schedule(claire, due_in=dt.timedelta(hours=1))

    result = reminders_sweep()

    assert (result.claimed, result.sent) == (1, 1)
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.status == Reminder.Status.SENT and due.sent_at is not None
    assert later.status == Reminder.Status.SCHEDULED
    (event,) = reminder_events(due)
    assert event.user_id == claire.pk
    assert event.data == {
        "reminder_id": due.pk,
        "kind": "follow_up_due",
        "title": "Check-in call",
        "url": due.url,
        "due_at": due.due_at.isoformat(),
        "subject_type": "referrals.followup",
        "subject_id": due.subject_id,
    }
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["claire@example.org"]
    assert len(fake_push.calls) == 1
    outcomes = dict(due.deliveries.values_list("channel", "outcome"))
    assert outcomes == {"event": "sent", "push": "sent", "email": "sent"}


def test_a_second_sweep_sends_nothing_again(schedule: Schedule, claire: Any, fake_push: FakePush) -> None:
    fake_push.devices[claire.pk] = 1
    reminder = schedule(claire, due_in=-MINUTE)
    reminders_sweep()
    second = reminders_sweep()
    assert second.claimed == 0
    assert len(reminder_events(reminder)) == 1
    assert len(mail.outbox) == 1
    assert len(fake_push.calls) == 1


def test_push_and_email_bodies_carry_no_health_information(
    schedule: Schedule, claire: Any, fake_push: FakePush
) -> None:
    fake_push.devices[claire.pk] = 1
    # A careless caller puts clinical words into the title: they must still not leave the building.
    clinical = "Suicidal ideation follow-up for John Smith, DOB 1980-01-01"
    for kind in Reminder.Kind.values:
        schedule(claire, due_in=-MINUTE, kind=kind, title=clinical[:120], url="/referrals/99")
    reminders_sweep()

    assert len(mail.outbox) == len(Reminder.Kind.values)
    assert len(fake_push.calls) == len(Reminder.Kind.values)
    texts = [m.subject + "\n" + m.body for m in mail.outbox] + [str(p) for _, p in fake_push.calls]
    for text in texts:
        lowered = text.lower()
        for word in ("suicid", "ideation", "john", "smith", "1980", "ivc", "custody", "mental", "crisis"):
            assert word not in lowered, (word, text)
    for message in mail.outbox:
        assert "http://127.0.0.1:8000/referrals/99" in message.body
    for _, payload in fake_push.calls:
        assert set(payload) == {"title", "body", "url", "tag"}
        assert payload["url"] == "/referrals/99"
    follow_up = next(m for m in mail.outbox if "You have a follow-up due" in m.body)
    assert follow_up.subject == channels.EMAIL_SUBJECT


def test_cancelled_reminders_are_never_sent(schedule: Schedule, claire: Any) -> None:
    subject = SubjectRef("referrals.followup", "77")
    by_subject = schedule(claire, due_in=-MINUTE, subject=subject, dedupe_key="referral:5:followup:77:due")
    by_prefix = schedule(claire, due_in=-MINUTE, dedupe_key="referral:6:followup:78:due")
    other = schedule(claire, due_in=-MINUTE, dedupe_key="referral:60:followup:79:due")

    assert reminder_cancel_for(subject=subject, reason="follow-up done") == 1
    assert reminder_cancel_by_key_prefix(prefix="referral:6:") == 1
    result = reminders_sweep()

    assert result.sent == 1
    statuses = {r.pk: r.status for r in Reminder.objects.all()}
    assert statuses == {by_subject.pk: "cancelled", by_prefix.pk: "cancelled", other.pk: "sent"}
    assert Reminder.objects.get(pk=by_subject.pk).last_error == "follow-up done"
    assert not reminder_events(by_subject) and not reminder_events(by_prefix)


def test_cancel_for_a_subject_can_be_limited_to_some_kinds(schedule: Schedule, claire: Any) -> None:
    subject = SubjectRef("referrals.followup", "5")
    before = schedule(claire, subject=subject, kind=Reminder.Kind.FOLLOW_UP_BEFORE_DUE, due_in=MINUTE)
    escalation = schedule(claire, subject=subject, kind=Reminder.Kind.FOLLOW_UP_OVERDUE_ESCALATION, due_in=MINUTE)
    assert reminder_cancel_for(subject=subject, kinds=[Reminder.Kind.FOLLOW_UP_BEFORE_DUE]) == 1
    before.refresh_from_db()
    escalation.refresh_from_db()
    assert (before.status, escalation.status) == ("cancelled", "scheduled")


def test_an_obsolete_reminder_is_cancelled_at_send_time(schedule: Schedule, claire: Any) -> None:
    done_ids = {"1"}
    register_obsolescence_check("tests.thing", lambda r: r.subject_id in done_ids)
    try:
        done = schedule(claire, due_in=-MINUTE, subject=SubjectRef("tests.thing", "1"))
        open_ = schedule(claire, due_in=-MINUTE, subject=SubjectRef("tests.thing", "2"))
        result = reminders_sweep()
    finally:
        unregister_obsolescence_check("tests.thing")
    assert (result.sent, result.cancelled) == (1, 1)
    done.refresh_from_db()
    assert done.status == "cancelled" and done.last_error == "obsolete"
    assert not reminder_events(done)
    assert len(reminder_events(open_)) == 1


def test_a_failing_obsolescence_check_still_sends(schedule: Schedule, claire: Any) -> None:
    def broken(reminder: Reminder) -> bool:
        raise RuntimeError("database hiccup")

    register_obsolescence_check("tests.broken", broken)
    try:
        reminder = schedule(claire, due_in=-MINUTE, subject=SubjectRef("tests.broken", "1"))
        reminders_sweep()
    finally:
        unregister_obsolescence_check("tests.broken")
    reminder.refresh_from_db()
    assert reminder.status == "sent"


def test_an_inactive_recipient_gets_no_reminder(schedule: Schedule, claire: Any) -> None:
    reminder = schedule(claire, due_in=-MINUTE)
    claire.is_active = False
    claire.save(update_fields=["is_active"])
    reminders_sweep()
    reminder.refresh_from_db()
    assert reminder.status == "cancelled"
    assert not mail.outbox


def test_a_row_stuck_in_sending_is_recovered_and_finished_without_repeating_channels(
    schedule: Schedule, claire: Any, fake_push: FakePush
) -> None:
    """The worker died after the event went out but before push and e-mail."""
    fake_push.devices[claire.pk] = 1
    reminder = schedule(claire, due_in=-dt.timedelta(minutes=20))
    # Simulate the dead worker's half-done work: claimed 10 minutes ago, event delivered.
    reminders_sweep_first_channel_only(reminder)
    Reminder.objects.filter(pk=reminder.pk).update(
        status="sending", claimed_at=timezone.now() - dt.timedelta(minutes=10)
    )

    result = reminders_sweep()

    assert (result.recovered, result.sent) == (1, 1)
    reminder.refresh_from_db()
    assert reminder.status == "sent" and reminder.attempts == 1
    assert len(reminder_events(reminder)) == 1
    assert len(mail.outbox) == 1 and len(fake_push.calls) == 1


def reminders_sweep_first_channel_only(reminder: Reminder) -> None:
    from django.db import transaction

    from apps.realtime.services import event_emit

    with transaction.atomic():
        event_emit(type="reminder.due", recipients=[reminder.recipient], data=channels.event_payload(reminder))
        Delivery.objects.create(reminder=reminder, channel="event", outcome="sent", at=timezone.now())


@override_settings(REMINDERS_SENDING_TIMEOUT_SECONDS=300)
def test_a_row_sending_for_less_than_the_timeout_is_left_alone(schedule: Schedule, claire: Any) -> None:
    reminder = schedule(claire, due_in=-MINUTE)
    Reminder.objects.filter(pk=reminder.pk).update(status="sending", claimed_at=timezone.now() - MINUTE)
    assert reminders_recover_stuck() == 0
    assert reminders_sweep().claimed == 0
    reminder.refresh_from_db()
    assert reminder.status == "sending"


def test_a_stale_worker_cannot_finish_a_row_it_no_longer_owns(schedule: Schedule, claire: Any) -> None:
    from apps.reminders.services import _claim, _finish

    schedule(claire, due_in=-MINUTE)
    old_token, (claimed,) = _claim(now=timezone.now(), limit=10)
    Reminder.objects.filter(pk=claimed.pk).update(claimed_at=timezone.now() - dt.timedelta(hours=1))
    reminders_recover_stuck()
    new_token, (reclaimed,) = _claim(now=timezone.now(), limit=10)
    assert reclaimed.pk == claimed.pk and new_token != old_token
    assert _finish(claimed, old_token, status="sent") is False
    assert _finish(reclaimed, new_token, status="sent") is True


@override_settings(REMINDERS_MAX_ATTEMPTS=2)
def test_a_failing_channel_is_retried_with_back_off_then_marked_failed(
    schedule: Schedule, claire: Any, fake_push: FakePush
) -> None:
    fake_push.devices[claire.pk] = 1
    fake_push.fail = True
    reminder = schedule(claire, due_in=-MINUTE)

    first = reminders_sweep()
    reminder.refresh_from_db()
    assert first.retried == 1
    assert reminder.status == "scheduled" and reminder.attempts == 1
    assert reminder.next_attempt_at > timezone.now()
    assert "push" in reminder.last_error
    # The other channels went out and are recorded; only push is outstanding.
    assert set(reminder.deliveries.values_list("channel", flat=True)) == {"event", "email"}
    assert reminders_sweep().claimed == 0  # backing off

    with time_machine.travel(reminder.next_attempt_at + dt.timedelta(seconds=1)):
        second = reminders_sweep()
    reminder.refresh_from_db()
    assert second.failed == 1 and reminder.status == "failed" and reminder.attempts == 2
    assert len(reminder_events(reminder)) == 1 and len(mail.outbox) == 1


def test_recipient_without_email_gets_event_and_a_skipped_email_record(schedule: Schedule, clinician_a: Any) -> None:
    reminder = schedule(clinician_a, due_in=-MINUTE)
    reminders_sweep()
    assert reminder.deliveries.get(channel="email").outcome == "skipped"
    assert not mail.outbox
    assert len(reminder_events(reminder)) == 1


def test_when_the_clock_jumps_every_due_reminder_is_sent_and_none_early(schedule: Schedule, claire: Any) -> None:
    start = dt.datetime(2026, 3, 8, 6, 0, tzinfo=dt.UTC)  # the US spring-forward morning
    with time_machine.travel(start, tick=False) as clock:
        soon = schedule(claire, due_in=dt.timedelta(minutes=5))
        in_an_hour = schedule(claire, due_in=dt.timedelta(hours=1))
        tomorrow = schedule(claire, due_in=dt.timedelta(days=1))
        assert reminders_sweep().claimed == 0

        clock.move_to(start + dt.timedelta(minutes=4, seconds=59))
        assert reminders_sweep().claimed == 0  # one second early is early

        clock.move_to(start + dt.timedelta(hours=3))  # the machine slept: a jump over two due times
        assert reminders_sweep().sent == 2

        clock.move_to(start + dt.timedelta(minutes=30))  # clock stepped backwards (NTP correction)
        assert reminders_sweep().claimed == 0

        clock.move_to(start + dt.timedelta(days=2))
        assert reminders_sweep().sent == 1

    sent = {r.pk: r.sent_at for r in Reminder.objects.all()}
    assert sent[soon.pk] == sent[in_an_hour.pk] == start + dt.timedelta(hours=3)
    assert sent[tomorrow.pk] == start + dt.timedelta(days=2)
    for reminder in (soon, in_an_hour, tomorrow):
        reminder.refresh_from_db()
        assert reminder.sent_at is not None and reminder.sent_at >= reminder.due_at
        assert len(reminder_events(reminder)) == 1


def test_the_sweep_works_in_small_batches(schedule: Schedule, claire: Any) -> None:
    for _ in range(7):
        schedule(claire, due_in=-MINUTE)
    result = reminders_sweep(batch_size=3)
    assert (result.batches, result.sent) == (3, 7)


def test_beat_runs_the_sweep_every_minute() -> None:
    from django.conf import settings

    from durham_coresponse.celery import app

    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["reminders-sweep"]
    assert entry["schedule"] == 60.0
    assert entry["task"] in app.tasks
    assert settings.CELERY_BEAT_SCHEDULE["reminders-recover-stuck"]["task"] in app.tasks


def test_the_sweep_task_delivers(schedule: Schedule, claire: Any) -> None:
    from apps.reminders.tasks import reminders_sweep_task

    reminder = schedule(claire, due_in=-MINUTE)
    assert reminders_sweep_task.delay().get()["sent"] == 1  # eager in unit tests; real worker in tests/reliability
    reminder.refresh_from_db()
    assert reminder.status == "sent"


def test_one_reminder_whose_event_cannot_be_written_does_not_hold_back_its_batch(
    schedule: Schedule, claire: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reminders = [schedule(claire, due_in=-MINUTE) for _ in range(5)]
    bad = reminders[2]
    real_payload = channels.event_payload

    def payload(reminder: Reminder) -> dict[str, Any]:
        if reminder.pk == bad.pk:
            raise ValueError("cannot serialise")
        return real_payload(reminder)

    monkeypatch.setattr(channels, "event_payload", payload)
    result = reminders_sweep()

    assert (result.sent, result.retried) == (4, 1)
    bad.refresh_from_db()
    assert bad.status == "scheduled" and bad.attempts == 1 and "event" in bad.last_error
    for reminder in reminders:
        assert len(reminder_events(reminder)) == (0 if reminder.pk == bad.pk else 1)
    # Push and e-mail still went out for the bad one; only its event is outstanding.
    assert set(bad.deliveries.values_list("channel", flat=True)) == {"push", "email"}


def test_the_real_push_module_accepts_reminder_payloads(
    schedule: Schedule, claire: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against apps.realtime.push itself (it refuses unknown keys and over-long fields): with no
    subscriptions every kind ends as "skipped", not as a refused payload."""
    monkeypatch.setattr(services, "push_send_to_user", push_send_to_user)  # undo the fake_push fixture
    for kind in Reminder.Kind.values:
        schedule(claire, due_in=-MINUTE, kind=kind, url="/referrals/" + "9" * 200)
    result = reminders_sweep()
    assert result.errors == []
    outcomes = set(Delivery.objects.filter(channel="push").values_list("outcome", "detail"))
    assert outcomes == {("skipped", "no push subscriptions")}
