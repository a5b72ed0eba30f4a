"""Session sign-in for the field app (password, then the second factor), with CSRF on, and who-am-I.
The MFA details (enrolment, recovery codes, reuse, expiry) are in apps/security/tests/test_mfa.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.security.testing import confirmed_device, sign_in, totp_code

pytestmark = pytest.mark.django_db

CSRF = "/api/v1/auth/csrf/"
LOGIN = "/api/v1/auth/login/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/me/"
PASSWORD = "pw-for-tests-1"


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_token(client: Client) -> str:
    response = client.get(CSRF)
    assert response.status_code == 200
    token: str = response.json()["csrfToken"]
    assert client.cookies["csrftoken"].value
    return token


def test_login_without_a_csrf_token_is_refused(browser: Client, clinician_a: Any) -> None:
    response = browser.post(LOGIN, {"username": "clinician_a", "password": PASSWORD}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert "sessionid" not in browser.cookies
    assert browser.get(ME).status_code in (401, 403)


def test_the_password_alone_does_not_sign_in_it_asks_for_the_code(browser: Client, clinician_a: Any) -> None:
    confirmed_device(clinician_a)
    token = csrf_token(browser)
    response = browser.post(
        LOGIN,
        {"username": "clinician_a", "password": PASSWORD},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "mfa_required"}
    assert browser.get(ME).status_code in (401, 403)


def test_a_user_without_an_authenticator_is_asked_to_enrol(browser: Client, clinician_a: Any) -> None:
    token = csrf_token(browser)
    response = browser.post(
        LOGIN,
        {"username": "clinician_a", "password": PASSWORD},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.json() == {"status": "mfa_enrollment_required"}
    assert browser.get(ME).status_code in (401, 403)


def test_password_and_code_open_a_session_that_works_for_me(browser: Client, clinician_a: Any) -> None:
    confirmed_device(clinician_a)
    response = sign_in(browser, "clinician_a", PASSWORD)
    assert response.status_code == 200, response.content
    assert response.json()["username"] == "clinician_a"
    me = browser.get(ME)
    assert me.status_code == 200
    assert me.json()["roles"] == ["clinician"]


def test_the_code_step_needs_the_csrf_token(browser: Client, clinician_a: Any) -> None:
    device = confirmed_device(clinician_a)
    token = csrf_token(browser)
    browser.post(
        LOGIN,
        {"username": "clinician_a", "password": PASSWORD},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    response = browser.post("/api/v1/auth/mfa/verify/", {"code": totp_code(device)}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert browser.get(ME).status_code in (401, 403)


def test_a_wrong_password_is_a_400_naming_the_password(browser: Client, clinician_a: Any) -> None:
    token = csrf_token(browser)
    response = browser.post(
        LOGIN,
        {"username": "clinician_a", "password": "wrong"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert browser.get(ME).status_code in (401, 403)


def test_a_login_without_fields_is_a_400_naming_them(browser: Client) -> None:
    token = csrf_token(browser)
    response = browser.post(LOGIN, {}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "password"}


def test_an_inactive_user_cannot_log_in(browser: Client, clinician_a: Any) -> None:
    clinician_a.is_active = False
    clinician_a.save()
    token = csrf_token(browser)
    response = browser.post(
        LOGIN,
        {"username": "clinician_a", "password": PASSWORD},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 400


def _login(browser: Client, username: str) -> str:
    from apps.accounts.models import User

    confirmed_device(User.objects.get(username=username))
    response = sign_in(browser, username, PASSWORD)
    assert response.status_code == 200
    # Django rotates the CSRF token at login.
    return browser.cookies["csrftoken"].value


def test_logout_needs_the_csrf_token_and_ends_the_session(browser: Client, clinician_a: Any) -> None:
    token = _login(browser, "clinician_a")
    assert browser.post(LOGOUT, content_type="application/json").status_code == 403
    assert browser.get(ME).status_code == 200
    assert browser.post(LOGOUT, content_type="application/json", HTTP_X_CSRFTOKEN=token).status_code == 204
    assert browser.get(ME).status_code in (401, 403)


def test_me_shows_the_partner_on_a_current_shift(
    browser: Client, clinician_a: Any, officer_a: Any, on_shift_a: Any
) -> None:
    _login(browser, "clinician_a")
    me = browser.get(ME).json()
    assert me["current_shift"]["id"] == on_shift_a.pk
    assert me["current_shift"]["team"]["call_sign"] == "CR-A"
    assert me["partner"] == {"id": officer_a.pk, "full_name": officer_a.display_name, "role": "officer"}


def test_me_prefers_the_clinician_or_officer_over_a_trainee_as_partner(
    api: Callable[[Any], Any], make_user: Callable[..., Any], team_a: Any, clinician_a: Any, officer_a: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    from apps.shifts.services import MemberSpec, shift_create

    trainee = make_user("aaa_trainee", "care_navigator", last="Aardvark")
    now = timezone.now()
    shift_create(
        team=team_a,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
        members=[MemberSpec(trainee, "other"), MemberSpec(clinician_a, "clinician"), MemberSpec(officer_a, "officer")],
    )
    assert api(officer_a).get(ME).json()["partner"]["id"] == clinician_a.pk


def test_me_off_shift_has_no_partner(api: Callable[[Any], Any], clinician_b: Any, on_shift_a: Any) -> None:
    me = api(clinician_b).get(ME).json()
    assert me["current_shift"] is None
    assert me["partner"] is None
