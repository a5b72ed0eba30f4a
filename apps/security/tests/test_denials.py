"""Permission denials are security events (issue 8 item 7): API 403s, admin 403s and CSRF failures."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from apps.security.models import SecurityEvent
from apps.security.testing import mfa_force_login

pytestmark = pytest.mark.django_db

DENIED = SecurityEvent.Kind.PERMISSION_DENIED


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()  # the once-a-minute dedupe lives in the cache


def test_api_403_is_audited_once_a_minute(api: Any, officer_a: Any) -> None:
    client = api(officer_a)
    for _ in range(3):
        assert client.post("/api/v1/incidents/", {}, format="json").status_code == 403
    rows = list(SecurityEvent.objects.filter(kind=DENIED))
    assert len(rows) == 1
    assert rows[0].user == officer_a
    assert rows[0].path == "/api/v1/incidents/"
    assert rows[0].details == {"method": "POST", "reason": "permission", "status": 403}


def test_another_path_is_a_new_event(api: Any, officer_a: Any) -> None:
    client = api(officer_a)
    assert client.post("/api/v1/incidents/", {}, format="json").status_code == 403
    assert client.post("/api/v1/incidents/1/triage/", {}, format="json").status_code == 403
    paths = sorted(SecurityEvent.objects.filter(kind=DENIED).values_list("path", flat=True))
    assert paths == ["/api/v1/incidents/", "/api/v1/incidents/1/triage/"]


def test_csrf_failure_on_the_api_is_audited(make_user: Any, dispatcher: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(dispatcher)
    response = client.post("/api/v1/incidents/", {}, content_type="application/json")
    assert response.status_code == 403
    row = SecurityEvent.objects.get(kind=DENIED)
    assert row.details["reason"] == "csrf"
    assert row.user == dispatcher


def test_admin_403_is_audited(make_user: Any) -> None:
    # A supervisor uses the admin but has no permission on lockouts (admin role only): Django answers 403.
    supervisor = make_user("sup-denied", "supervisor")
    client = Client()
    mfa_force_login(client, supervisor)
    response = client.get("/admin/security/lockout/")
    assert response.status_code == 403
    row = SecurityEvent.objects.get(kind=DENIED, path="/admin/security/lockout/")
    assert row.user == supervisor


def test_admin_csrf_failure_is_audited(make_user: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert SecurityEvent.objects.filter(kind=DENIED, path="/admin/login/", details__reason="csrf").exists()
