"""/healthz reports the database, the channel layer and the broker."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from durham_coresponse import health as views

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_dependency_ok() -> None:
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "channel_layer", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


def test_healthz_reports_a_broken_dependency_as_degraded(monkeypatch: Any) -> None:
    def broken() -> dict[str, Any]:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(views, "_check_broker", broken)
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["ok"] is False
    assert "broker unreachable" in body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.postgres
@pytest.mark.redis
def test_healthz_uses_postgres_and_redis_when_configured() -> None:
    body = Client().get("/healthz").json()
    assert body["status"] == "ok"
    assert body["embedded"] is False
    assert body["checks"]["database"]["vendor"] == "postgresql"
    assert body["checks"]["channel_layer"]["backend"] == "RedisChannelLayer"
    assert body["checks"]["broker"]["transport"] == "redis"


def test_healthz_only_answers_get() -> None:
    assert Client().post("/healthz").status_code == 405
