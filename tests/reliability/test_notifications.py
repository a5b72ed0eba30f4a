"""The SMS stage under failure, with real Celery worker processes, Redis, PostgreSQL and the local
fake of Twilio: two workers sweeping at once text each member once; a provider 500 is retried into
one text; a worker killed after the provider accepted a text does not send a second one."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.incidents.services import assignment_offer, incident_create
from apps.notifications.models import Notification, PhoneNumber
from apps.notifications.tests.fake_twilio import FakeTwilio, FakeTwilioServer, worker_env
from apps.realtime.escalation import escalation_sweep
from apps.shifts.services import MemberSpec, shift_create
from apps.teams.models import Team

from .conftest import Harness, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

PUBLIC = "http://127.0.0.1:9"  # callbacks are not exercised here (tests/notifications does that)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilioServer() as server:
        yield server


def env(fake: FakeTwilio, **extra: str) -> dict[str, Any]:
    return {
        **worker_env(fake, PUBLIC),
        "NOTIFICATIONS_SMS_AFTER_SECONDS": "0",  # due at once: the offers below are fresh
        "NOTIFICATIONS_VOICE_AFTER_SECONDS": "3600",
        "NOTIFICATIONS_SENDING_TIMEOUT_SECONDS": "2",
        "NOTIFICATIONS_RETRY_BASE_SECONDS": "1",
        **extra,
    }


def make_offers(count: int, dispatcher: User, make_user: Any, *, phones_per_team: int = 2) -> list[str]:
    """``count`` teams on shift, each offered one incident; returns the numbers that should get a text."""
    now = timezone.now()
    numbers = []
    for i in range(count):
        team = Team.objects.create(call_sign=f"CR-{i:02d}", name=f"Team {i}")
        members = [make_user(f"m{i}-{role}", role) for role in ("clinician", "officer")]
        for j, member in enumerate(members[:phones_per_team]):
            number = f"+1919555{i:02d}{j:02d}"
            PhoneNumber.objects.create(user=member, number=number, verified_at=now)
            numbers.append(number)
        shift_create(
            team=team,
            starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=8),
            members=[MemberSpec(members[0], "clinician"), MemberSpec(members[1], "officer")],
        )
        incident = incident_create(by=dispatcher, values={"call_type_code": "SUICTHRT", "priority": 7})
        assignment_offer(incident_id=incident.pk, team_id=team.pk, by=dispatcher)
    escalation_sweep()  # the escalation rows (incidents may start them itself at offer time)
    return numbers


def sweep(harness: Harness) -> None:
    with harness.producer() as app:
        app.send_task("notifications.sweep", queue=harness.queue, retry=False)


def statuses() -> Counter[str]:
    return Counter(Notification.objects.values_list("status", flat=True))


@pytest.fixture
def dispatcher(make_user: Any) -> User:
    user: User = make_user("dispatch-rel", "dispatcher")
    return user


def test_two_real_workers_sweeping_at_once_text_each_member_once(
    harness: Harness, fake: FakeTwilio, dispatcher: User, make_user: Any
) -> None:
    numbers = make_offers(10, dispatcher, make_user)
    fake.latency = 0.15
    workers = [harness.start_worker(wait=False, **env(fake, NOTIFICATIONS_BATCH_SIZE="2")) for _ in range(2)]
    for worker in workers:
        worker.wait_ready()
    sweep(harness)
    sweep(harness)
    wait_for(lambda: statuses() == {"sent": 20}, timeout=60, what="20 texts sent")
    sent = Counter(m.to for m in fake.messages())
    assert sent == Counter({n: 1 for n in numbers})
    assert len({m.sid for m in fake.messages()}) == 20
    assert set(Notification.objects.values_list("provider_sid", flat=True)) == {m.sid for m in fake.messages()}
    sweep_line = re.compile(r"notifications sweep: {[^}]*'sent': (\d+)")
    sent_by = [sum(int(n) for n in sweep_line.findall(w.output())) for w in workers]
    assert sum(sent_by) == 20 and all(sent_by), f"both workers should have sent: {sent_by}"


def test_a_provider_500_then_success_sends_one_text(
    harness: Harness, fake: FakeTwilio, dispatcher: User, make_user: Any
) -> None:
    (number,) = make_offers(1, dispatcher, make_user, phones_per_team=1)
    fake.fail_next(500)
    harness.start_worker(**env(fake))
    sweep(harness)
    wait_for(
        lambda: Notification.objects.filter(status="scheduled", attempts=1, needs_reconcile=True).exists(),
        timeout=20,
        what="the 500 to be scheduled for a retry",
    )
    assert fake.messages() == []
    time.sleep(1.2)  # NOTIFICATIONS_RETRY_BASE_SECONDS=1
    sweep(harness)
    wait_for(lambda: statuses()["sent"] == 1, timeout=20, what="the retry to send")
    assert [m.to for m in fake.messages()] == [number]
    assert ("GET", f"/2010-04-01/Accounts/{'AC' + 'f' * 32}/Messages.json") in fake.requests  # reconciled first


def test_a_worker_killed_after_the_provider_accepted_the_text_does_not_send_a_second(
    harness: Harness, fake: FakeTwilio, dispatcher: User, make_user: Any
) -> None:
    (number,) = make_offers(1, dispatcher, make_user, phones_per_team=1)
    fake.hang_next()  # Twilio accepts the text; its answer never reaches the worker
    first = harness.start_worker(**env(fake))
    sweep(harness)
    wait_for(lambda: len(fake.messages()) == 1, timeout=20, what="the provider to accept the text")
    time.sleep(0.3)
    first.kill()  # SIGKILL while waiting for the provider's answer: the SID was never stored

    row = Notification.objects.get(channel="sms", to_number=number)
    assert (row.status, row.provider_sid) == ("sending", "")
    harness.start_worker(**env(fake))
    time.sleep(2.2)  # NOTIFICATIONS_SENDING_TIMEOUT_SECONDS=2
    sweep(harness)
    wait_for(lambda: Notification.objects.get(pk=row.pk).status == "sent", timeout=20, what="recovery")

    (text,) = fake.messages()
    row.refresh_from_db()
    assert row.provider_sid == text.sid and row.attempts == 1
    sweep(harness)
    time.sleep(1)
    assert len(fake.messages()) == 1
