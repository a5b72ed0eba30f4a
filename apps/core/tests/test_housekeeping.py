from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.conf import settings

from apps.core.models import IdempotencyRecord
from apps.core.tasks import idempotency_purge_task

pytestmark = pytest.mark.django_db


def test_daily_purge_forgets_week_old_completed_idempotency_records(dispatcher: Any) -> None:
    assert settings.CELERY_BEAT_SCHEDULE["core-idempotency-purge"]["task"] == idempotency_purge_task.name
    with time_machine.travel(dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)):
        IdempotencyRecord.objects.create(
            user=dispatcher,
            key="old",
            method="POST",
            path="/x",
            request_hash="h",
            status_code=201,
            response_body="{}",
            completed_at=dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC),
        )
    with time_machine.travel(dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC)):
        IdempotencyRecord.objects.create(
            user=dispatcher,
            key="new",
            method="POST",
            path="/x",
            request_hash="h",
            status_code=201,
            response_body="{}",
            completed_at=dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC),
        )
        assert idempotency_purge_task() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
