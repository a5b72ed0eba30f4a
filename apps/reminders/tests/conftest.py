from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from apps.reminders import services
from apps.reminders.models import Reminder
from apps.reminders.services import SubjectRef, reminder_schedule


@dataclass
class FakePushResult:
    sent: int = 0
    failed: int = 0


@dataclass
class FakePush:
    """Stands in for apps.realtime.push.push_send_to_user; ``devices`` per user id."""

    devices: dict[int, int] = field(default_factory=dict)
    fail: bool = False
    calls: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, user: Any, payload: Mapping[str, Any]) -> FakePushResult:
        self.calls.append((user.pk, dict(payload)))
        count = self.devices.get(user.pk, 0)
        if self.fail and count:
            return FakePushResult(failed=count)
        return FakePushResult(sent=count)


@pytest.fixture
def fake_push(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePush]:
    push = FakePush()
    monkeypatch.setattr(services, "push_send_to_user", push)
    yield push


@pytest.fixture
def schedule(fake_push: FakePush) -> Callable[..., Reminder]:
    """``schedule(user, due_in=timedelta, key=..., **overrides)``: a follow-up reminder."""
    counter = iter(range(1, 10_000))

    def make(user: Any, *, due_in: dt.timedelta = dt.timedelta(0), **overrides: Any) -> Reminder:
        n = next(counter)
        args: dict[str, Any] = {
            "recipient": user,
            "kind": Reminder.Kind.FOLLOW_UP_DUE,
            "due_at": timezone.now() + due_in,
            "subject": SubjectRef("referrals.followup", str(n)),
            "title": "Follow-up due",
            "url": f"/referrals/{n}",
            "dedupe_key": f"test:{n}",
        }
        args.update(overrides)
        return reminder_schedule(**args)

    return make
