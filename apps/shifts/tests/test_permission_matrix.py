"""Every foundation endpoint × every role (and anonymous): the expected status code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.roles import ALL_ROLES
from apps.shifts.models import Shift

from .conftest import ny

pytestmark = pytest.mark.django_db

ANON = "anonymous"
WRITERS = {"supervisor", "admin"}
OPERATIONS = ALL_ROLES - {"analyst"}


def expected(endpoint: str, role: str) -> int:
    public = {"csrf cookie": 200, "health": 200, "login without a csrf token": 403}
    if endpoint in public:
        return public[endpoint]
    if role == ANON:
        return 401
    if endpoint in {"list shifts", "read a shift", "me"}:
        return 200
    if endpoint == "on duty":
        return 200 if role in OPERATIONS else 403
    ok = {"create a shift": 201, "replace a shift": 200, "delete a shift": 204}[endpoint]
    return ok if role in WRITERS else 403


ENDPOINTS = [
    "list shifts",
    "read a shift",
    "create a shift",
    "replace a shift",
    "delete a shift",
    "on duty",
    "me",
    "csrf cookie",
    "login without a csrf token",
    "health",
]
CASES = [
    pytest.param(endpoint, role, expected(endpoint, role), id=f"{endpoint} as {role}")
    for endpoint in ENDPOINTS
    for role in [*sorted(ALL_ROLES), ANON]
]


@pytest.mark.parametrize(("endpoint", "role", "status"), CASES)
def test_endpoint_answers_each_role_with_the_expected_status(
    endpoint: str,
    role: str,
    status: int,
    make_user: Callable[..., Any],
    api: Callable[[Any], APIClient],
    book: Callable[..., Any],
    team_a: Any,
    clinician_a: Any,
    officer_a: Any,
) -> None:
    shift = book(ny(2026, 6, 1, 8), ny(2026, 6, 1, 18))
    client = api(None if role == ANON else make_user(f"person_{role}", role))
    body = {
        "team": team_a.pk,
        "starts_at": ny(2026, 6, 2, 8).isoformat(),
        "ends_at": ny(2026, 6, 2, 18).isoformat(),
        "members": [{"user": clinician_a.pk, "role": "clinician"}, {"user": officer_a.pk, "role": "officer"}],
    }
    detail = f"/api/v1/shifts/{shift.pk}/"
    calls: dict[str, Callable[[], Any]] = {
        "list shifts": lambda: client.get("/api/v1/shifts/"),
        "read a shift": lambda: client.get(detail),
        "create a shift": lambda: client.post("/api/v1/shifts/", body, format="json"),
        "replace a shift": lambda: client.put(detail, body, format="json"),
        "delete a shift": lambda: client.delete(detail),
        "on duty": lambda: client.get("/api/v1/teams/on-duty/"),
        "me": lambda: client.get("/api/v1/me/"),
        "csrf cookie": lambda: client.get("/api/v1/auth/csrf/"),
        "login without a csrf token": lambda: client.post(
            "/api/v1/auth/login/", {"username": "clinician_a", "password": "pw-for-tests-1"}, format="json"
        ),
        "health": lambda: client.get("/healthz"),
    }
    response = calls[endpoint]()
    assert response.status_code == status, response.content
    if status >= 400 and endpoint != "health":
        assert set(response.json()) >= {"message", "errors"}
    # A refused write changes nothing.
    if status in (401, 403):
        shift.refresh_from_db()
        assert Shift.objects.count() == 1
        assert shift.starts_at == ny(2026, 6, 1, 8)


def test_an_anonymous_refusal_tells_the_client_how_to_authenticate(api: Callable[[Any], APIClient]) -> None:
    response = api(None).get("/api/v1/shifts/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_user_with_no_role_is_refused_everything_but_me(
    make_user: Callable[..., Any], api: Callable[[Any], APIClient]
) -> None:
    client = api(make_user("nobody"))
    assert client.get("/api/v1/shifts/").status_code == 403
    assert client.get("/api/v1/teams/on-duty/").status_code == 403
    assert client.get("/api/v1/me/").status_code == 200


def test_a_shift_detail_of_an_unknown_id_is_a_404(supervisor: Any, api: Callable[[Any], APIClient]) -> None:
    response = api(supervisor).get("/api/v1/shifts/999999/")
    assert response.status_code == 404
    assert "message" in response.json()
