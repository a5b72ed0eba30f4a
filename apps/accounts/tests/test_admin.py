"""The people and API-key admin."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.accounts.models import ApiKey, User
from apps.security.testing import mfa_force_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(make_user: Callable[..., Any]) -> Client:
    client = Client()
    mfa_force_login(client, make_user("site_admin", "admin"))
    return client


def test_an_admin_creates_an_api_key_and_sees_the_secret_once(
    admin_browser: Client, make_user: Callable[..., Any]
) -> None:
    service = make_user("cad-integration", "dispatcher")
    response = admin_browser.post(
        "/admin/accounts/apikey/add/",
        {"name": "Durham CAD", "user": service.pk, "scopes": ["api:read"]},
        follow=True,
    )
    page = response.content.decode()
    match = re.search(r"it is not shown again: ([0-9a-f]{8}\.[A-Za-z0-9_-]+)", page)
    assert match, page[:3000]
    secret = match.group(1)
    key = ApiKey.objects.get()
    assert key.prefix == secret.split(".")[0]
    assert key.matches(secret.split(".")[1])
    assert secret.split(".")[1] not in key.hashed_secret
    api = Client()
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {secret}").json()["username"] == "cad-integration"
    # The change page never shows the secret again.
    change = admin_browser.get(f"/admin/accounts/apikey/{key.pk}/change/").content.decode()
    assert secret.split(".")[1] not in change


def test_the_revoke_action_stops_a_key(admin_browser: Client, make_user: Callable[..., Any]) -> None:
    key, secret = ApiKey.generate(name="CAD", user=make_user("svc", "dispatcher"))
    admin_browser.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {secret}").status_code == 401


def test_an_admin_gives_a_person_the_supervisor_role_and_admin_access_follows(
    admin_browser: Client, make_user: Callable[..., Any]
) -> None:
    person = make_user("promoted", "clinician")
    url = f"/admin/accounts/user/{person.pk}/change/"
    page = admin_browser.get(url)
    assert page.status_code == 200
    response = admin_browser.post(
        url,
        {
            "username": "promoted",
            "first_name": "Pat",
            "last_name": "Test",
            "email": "",
            "phone": "",
            "roles": ["clinician", "supervisor"],
            "is_active": "on",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    person = User.objects.get(pk=person.pk)
    assert person.roles == frozenset({"clinician", "supervisor"})
    assert person.is_staff


def test_a_supervisor_may_look_at_people_but_not_change_them(supervisor: Any, clinician_a: Any) -> None:
    client = Client()
    mfa_force_login(client, supervisor)
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/accounts/apikey/").status_code == 403
    response = client.post(f"/admin/accounts/user/{clinician_a.pk}/change/", {"username": "x", "roles": ["admin"]})
    assert response.status_code == 403
    assert User.objects.get(pk=clinician_a.pk).roles == frozenset({"clinician"})
