"""Reminders under failure, against real Celery workers, Redis and PostgreSQL (PITFALLS.md, Celery).

The database is the truth: a reminder is a row, delivered by whichever sweep claims it, exactly once
per channel, whatever happens to workers, beats and the broker.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.realtime.models import Event
from apps.reminders.models import Delivery, Reminder
from apps.reminders.services import SubjectRef, reminder_schedule, reminders_sweep

from .conftest import Harness, TcpProxy, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

CLINICAL_TITLE = "Suicide risk reassessment for Jane Roe"


def make_reminders(count: int, *, prefix: str) -> list[Reminder]:
    users = [
        User.objects.create_user(username=f"{prefix}-user-{i}", email=f"{prefix}{i}@example.org") for i in range(5)
    ]
    due = timezone.now() - dt.timedelta(seconds=5)
    return [
        reminder_schedule(
            recipient=users[i % len(users)],
            kind=Reminder.Kind.FOLLOW_UP_DUE,
            due_at=due,
            subject=SubjectRef("referrals.followup", str(i)),
            title=CLINICAL_TITLE,
            url=f"/{prefix}/{i}",
            dedupe_key=f"{prefix}:{i}",
        )
        for i in range(count)
    ]


def event_counts() -> Counter[int]:
    return Counter(e.data["reminder_id"] for e in Event.objects.filter(type="reminder.due"))


def mailed_urls(text: str, prefix: str) -> Counter[str]:
    return Counter(re.findall(rf"/{prefix}/\d+\b", text))


def statuses() -> Counter[str]:
    return Counter(Reminder.objects.values_list("status", flat=True))


def test_two_sweeps_at_once_deliver_each_reminder_once() -> None:
    """Two beats (or an overlapping slow sweep): SKIP LOCKED + the status transition share the work."""
    if not settings.IS_POSTGRES:
        pytest.skip("needs PostgreSQL")
    reminders = make_reminders(300, prefix="twin")
    barrier = threading.Barrier(4)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(reminders_sweep(batch_size=10))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not errors, errors
    assert sum(r.sent for r in results) == 300
    assert sum(1 for r in results if r.sent) >= 2, "the sweeps did not actually overlap"
    assert statuses() == {"sent": 300}
    counts = event_counts()
    assert set(counts) == {r.pk for r in reminders} and set(counts.values()) == {1}
    assert len(mail.outbox) == 300
    assert set(mailed_urls("".join(str(m.body) for m in mail.outbox), "twin").values()) == {1}


def test_two_real_workers_sweeping_at_once_deliver_each_reminder_once(harness: Harness) -> None:
    make_reminders(200, prefix="pair")
    workers = [harness.start_worker(REMINDERS_BATCH_SIZE="10", wait=False) for _ in range(2)]
    for worker in workers:
        worker.wait_ready()
    harness.sweep()
    harness.sweep()

    wait_for(lambda: statuses() == {"sent": 200}, timeout=30, what="all 200 reminders sent")
    assert set(event_counts().values()) == {1} and len(event_counts()) == 200
    urls = mailed_urls(harness.mail_text(), "pair")
    assert len(urls) == 200 and set(urls.values()) == {1}
    both = [w for w in harness.workers if "reminders sweep: claimed=" in w.output()]
    assert len(both) == 2, "both workers should have swept"


def test_a_worker_killed_mid_delivery_is_recovered_and_delivers_once(harness: Harness) -> None:
    reminders = make_reminders(3, prefix="killed")
    marker = harness.tmp / "hanging"
    first = harness.start_worker(
        EMAIL_BACKEND="tests.reliability.mailbackends.HangingBackend",
        RELIABILITY_HANG_MARKER=str(marker),
    )
    harness.sweep()
    wait_for(marker.exists, timeout=20, what="the worker to be inside send_mail")
    first.kill()  # SIGKILL, mid-delivery: no cleanup, no ack

    # The dead worker's half-done work: all three claimed; the first one's event went out, no e-mail.
    assert statuses() == {"sending": 3}
    head = Reminder.objects.order_by("next_attempt_at", "id").first()
    assert head is not None
    done = set(head.deliveries.values_list("channel", flat=True))
    assert "event" in done and "email" not in done
    assert not harness.mail_text()

    harness.start_worker()
    time.sleep(2.2)  # REMINDERS_SENDING_TIMEOUT_SECONDS=2 in the workers
    harness.sweep()  # the next beat tick

    wait_for(lambda: statuses() == {"sent": 3}, timeout=20, what="the stuck reminders to be sent")
    assert event_counts() == Counter({r.pk: 1 for r in reminders})
    assert mailed_urls(harness.mail_text(), "killed") == Counter({f"/killed/{i}": 1 for i in range(3)})
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}
    assert Delivery.objects.filter(channel="email").count() == 3
    # What went out by e-mail says nothing about health, however careless the caller's title was.
    text = harness.mail_text().lower()
    for word in ("suicide", "risk", "jane", "roe", "reassessment"):
        assert word not in text
    assert "you have a follow-up due" in text


def test_redis_down_leaves_reminders_scheduled_and_the_next_sweep_delivers_them(harness: Harness) -> None:
    redis = urlparse(settings.REDIS_URL)
    proxy = TcpProxy((redis.hostname or "127.0.0.1", redis.port or 6379))
    proxy.start()
    via_proxy = f"redis://127.0.0.1:{proxy.port}{redis.path or ''}"
    try:
        harness.start_worker(redis_url=via_proxy)
        proxy.stop()  # Redis goes away: the worker loses its broker, beat cannot publish
        reminders = make_reminders(5, prefix="outage")

        with pytest.raises(Exception):  # noqa: B017 - whatever kombu raises for a refused connection
            harness.sweep(redis_url=via_proxy)
        time.sleep(1)
        assert statuses() == {"scheduled": 5}, "nothing may be lost or half-sent while the broker is down"

        proxy.start()  # Redis is back
        # Beat publishes on its next tick; the worker reconnects on its own back-off.
        wait_for(lambda: _publish(harness, via_proxy), timeout=15, what="the broker to accept a publish")
        wait_for(lambda: statuses() == {"sent": 5}, timeout=25, what="the reminders to be sent after the outage")
    finally:
        proxy.stop()
    assert event_counts() == Counter({r.pk: 1 for r in reminders})
    assert mailed_urls(harness.mail_text(), "outage") == Counter({f"/outage/{i}": 1 for i in range(5)})


def _publish(harness: Harness, url: str) -> bool:
    try:
        harness.sweep(redis_url=url)
    except Exception:
        return False
    return True
