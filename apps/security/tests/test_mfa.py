"""Two-step sign-in with django-otp: enrolment on the first sign-in, codes, recovery codes, the
pending marker, replacing the authenticator, and the MFA admin site."""

from __future__ import annotations

import datetime as dt
from base64 import b32decode
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.security import mfa
from apps.security.models import SecurityEvent
from apps.security.testing import confirmed_device, mfa_force_login, sign_in, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
LOGIN = "/api/v1/auth/login/"
VERIFY = "/api/v1/auth/mfa/verify/"
ENROLL = "/api/v1/auth/mfa/enroll/"
CONFIRM = "/api/v1/auth/mfa/enroll/confirm/"
STATUS = "/api/v1/auth/mfa/"
RECOVERY = "/api/v1/auth/mfa/recovery-codes/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/me/"


@pytest.fixture(autouse=True)
def _no_otp_throttle(settings: Any) -> None:
    # django-otp also slows down repeated wrong codes on one device (1 s, 2 s, 4 s ...): real
    # people never type that fast; the tests do. The lockout is tested on its own.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def post(client: Client, url: str, data: dict[str, Any] | None = None) -> Any:
    if "csrftoken" not in client.cookies:
        client.get("/api/v1/auth/csrf/")
    token = client.cookies["csrftoken"].value
    return client.post(url, data or {}, content_type="application/json", HTTP_X_CSRFTOKEN=token)


def code_for(secret: str, *, steps: int = 0) -> str:
    import time

    totp = TOTP(b32decode(secret), 30, 0, 6, 0)
    totp.time = time.time() + steps * 30
    return f"{totp.token():06d}"


def kinds(username: str) -> list[str]:
    return list(SecurityEvent.objects.filter(username=username).order_by("id").values_list("kind", flat=True))


def test_a_first_sign_in_enrols_the_authenticator_then_signs_in(browser: Client, clinician_a: Any) -> None:
    assert post(browser, LOGIN, {"username": "clinician_a", "password": PASSWORD}).json() == {
        "status": "mfa_enrollment_required"
    }
    enrolment = post(browser, ENROLL)
    assert enrolment.status_code == 200, enrolment.content
    body = enrolment.json()
    assert len(b32decode(body["secret"])) == 20
    assert body["otpauth_uri"].startswith("otpauth://totp/Durham%20Co-Response%3Aclinician_a?")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert "issuer=Durham%20Co-Response" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg") and "http" not in body["qr_svg"].replace("http://www.w3.org", "")
    # Enrolling is not signing in.
    assert browser.get(ME).status_code in (401, 403)

    confirmed = post(browser, CONFIRM, {"code": code_for(body["secret"])})
    assert confirmed.status_code == 200, confirmed.content
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert confirmed.json()["me"]["username"] == "clinician_a"
    assert browser.get(ME).status_code == 200
    assert TOTPDevice.objects.get(user=clinician_a).confirmed
    status = browser.get(STATUS).json()
    assert status["enrolled"] is True and status["recovery_codes_left"] == 10 and status["confirmed_at"]
    assert kinds("clinician_a") == ["mfa.required", "mfa.enrolled", "login.succeeded"]


def test_enrolment_with_a_wrong_code_is_a_400_and_does_not_sign_in(browser: Client, clinician_a: Any) -> None:
    post(browser, LOGIN, {"username": "clinician_a", "password": PASSWORD})
    secret = post(browser, ENROLL).json()["secret"]
    right = code_for(secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = post(browser, CONFIRM, {"code": wrong})
    assert response.status_code == 400
    assert "code" in response.json()["errors"]
    assert browser.get(ME).status_code in (401, 403)
    assert not TOTPDevice.objects.filter(user=clinician_a, confirmed=True).exists()
    assert post(browser, CONFIRM, {"code": right}).status_code == 200


def test_a_user_with_an_authenticator_cannot_enrol_another_before_the_code(browser: Client, clinician_a: Any) -> None:
    confirmed_device(clinician_a)
    post(browser, LOGIN, {"username": "clinician_a", "password": PASSWORD})
    response = post(browser, ENROLL)
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_already_enrolled"
    assert TOTPDevice.objects.filter(user=clinician_a).count() == 1


def test_a_wrong_code_is_a_400_naming_the_code_and_is_audited(browser: Client, clinician_a: Any) -> None:
    device = confirmed_device(clinician_a)
    post(browser, LOGIN, {"username": "clinician_a", "password": PASSWORD})
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = post(browser, VERIFY, {"code": wrong})
    assert response.status_code == 400
    assert "code" in response.json()["errors"]
    assert browser.get(ME).status_code in (401, 403)
    assert kinds("clinician_a") == ["mfa.required", "mfa.failed"]
    event = SecurityEvent.objects.get(kind="mfa.failed")
    assert wrong not in str(event.details)


def test_a_code_is_accepted_once_only(clinician_a: Any) -> None:
    device = confirmed_device(clinician_a)
    with time_machine.travel(timezone.now(), tick=False):
        first = Client(enforce_csrf_checks=True)
        assert sign_in(first, "clinician_a", PASSWORD).status_code == 200
        code = totp_code(device)
        second = Client(enforce_csrf_checks=True)
        post(second, LOGIN, {"username": "clinician_a", "password": PASSWORD})
        replay = post(second, VERIFY, {"code": code})
        assert replay.status_code == 400
        assert second.get(ME).status_code in (401, 403)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=30), tick=False):
        assert post(second, VERIFY, {"code": totp_code(device)}).status_code == 200


def test_a_code_from_the_step_before_or_after_is_accepted_but_not_two_steps_off(make_user: Any) -> None:
    for steps, accepted in [(-1, True), (1, True), (-2, False), (2, False)]:
        user = make_user(f"tolerance_{steps + 2}", "clinician")
        device = confirmed_device(user)
        client = Client(enforce_csrf_checks=True)
        post(client, LOGIN, {"username": user.username, "password": PASSWORD})
        response = post(client, VERIFY, {"code": totp_code(device, steps=steps)})
        assert (response.status_code == 200) is accepted, (steps, response.content)


def test_a_recovery_code_signs_in_once(browser: Client, clinician_a: Any) -> None:
    confirmed_device(clinician_a)
    codes = mfa.recovery_codes_generate(user=clinician_a)
    post(browser, LOGIN, {"username": "clinician_a", "password": PASSWORD})
    # Typed with capitals and spaces instead of the dash: still the same code.
    typed = codes[0].upper().replace("-", " ")
    response = post(browser, VERIFY, {"code": typed})
    assert response.status_code == 200, response.content
    assert "mfa.recovery_used" in kinds("clinician_a")
    assert StaticToken.objects.filter(device__user=clinician_a).count() == 9
    assert post(browser, LOGOUT).status_code == 204

    again = Client(enforce_csrf_checks=True)
    post(again, LOGIN, {"username": "clinician_a", "password": PASSWORD})
    assert post(again, VERIFY, {"code": codes[0]}).status_code == 400
    assert post(again, VERIFY, {"code": codes[1]}).status_code == 200


def test_the_pending_sign_in_expires_after_five_minutes(browser: Client, clinician_a: Any) -> None:
    device = confirmed_device(clinician_a)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        post(browser, LOGIN, {"username": "clinician_a", "password": PASSWORD})
    with time_machine.travel(start + dt.timedelta(seconds=301), tick=False):
        response = post(browser, VERIFY, {"code": totp_code(device)})
        assert response.status_code == 401
        assert response.json()["code"] == "mfa_not_pending"
        assert browser.get(ME).status_code in (401, 403)


def test_a_code_without_a_password_first_is_a_401(browser: Client, clinician_a: Any) -> None:
    device = confirmed_device(clinician_a)
    response = post(browser, VERIFY, {"code": totp_code(device)})
    assert response.status_code == 401
    assert response.json()["code"] == "mfa_not_pending"
    assert set(response.json()) >= {"message", "errors"}
    assert post(browser, CONFIRM, {"code": "123456"}).status_code == 401
    assert post(browser, ENROLL).status_code == 401


def test_bad_input_to_the_mfa_endpoints_is_a_400(browser: Client, clinician_a: Any) -> None:
    confirmed_device(clinician_a)
    post(browser, LOGIN, {"username": "clinician_a", "password": PASSWORD})
    payloads: list[dict[str, Any]] = [{}, {"code": ""}, {"code": "x" * 50}, {"code": ["123456"]}]
    for payload in payloads:
        response = post(browser, VERIFY, payload)
        assert response.status_code == 400, payload
        assert "code" in response.json()["errors"]


def test_a_signed_in_user_replaces_the_authenticator_with_the_password(browser: Client, clinician_a: Any) -> None:
    old = confirmed_device(clinician_a)
    assert sign_in(browser, "clinician_a", PASSWORD).status_code == 200
    assert post(browser, ENROLL).status_code == 400
    assert post(browser, ENROLL, {"password": "wrong"}).json()["errors"] == {"password": ["Wrong password."]}
    secret = post(browser, ENROLL, {"password": PASSWORD}).json()["secret"]
    # The old authenticator works until the new one is confirmed.
    assert TOTPDevice.objects.filter(pk=old.pk, confirmed=True).exists()
    response = post(browser, CONFIRM, {"code": code_for(secret)})
    assert response.status_code == 200, response.content
    assert len(response.json()["recovery_codes"]) == 10
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert TOTPDevice.objects.filter(user=clinician_a, confirmed=True).count() == 1
    assert browser.get(ME).status_code == 200
    assert SecurityEvent.objects.get(kind="mfa.enrolled").details == {"replaced": True}


def test_new_recovery_codes_need_the_password_and_replace_the_old_ones(browser: Client, clinician_a: Any) -> None:
    confirmed_device(clinician_a)
    old_codes = mfa.recovery_codes_generate(user=clinician_a)
    assert sign_in(browser, "clinician_a", PASSWORD).status_code == 200
    assert post(browser, RECOVERY, {"password": "wrong"}).status_code == 400
    response = post(browser, RECOVERY, {"password": PASSWORD})
    assert response.status_code == 200
    new_codes = response.json()["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert browser.get(STATUS).json()["recovery_codes_left"] == 10
    assert "mfa.recovery_regenerated" in kinds("clinician_a")
    other = Client(enforce_csrf_checks=True)
    post(other, LOGIN, {"username": "clinician_a", "password": PASSWORD})
    assert post(other, VERIFY, {"code": old_codes[0]}).status_code == 400
    assert post(other, VERIFY, {"code": new_codes[0]}).status_code == 200


def test_the_mfa_status_and_recovery_codes_need_a_signed_in_user(browser: Client) -> None:
    assert browser.get(STATUS).status_code in (401, 403)
    assert post(browser, RECOVERY, {"password": PASSWORD}).status_code in (401, 403)


def test_logout_is_audited(browser: Client, clinician_a: Any) -> None:
    confirmed_device(clinician_a)
    sign_in(browser, "clinician_a", PASSWORD)
    assert post(browser, LOGOUT).status_code == 204
    assert kinds("clinician_a")[-1] == "logout"


# --- the admin site ------------------------------------------------------------------------------------


def admin_login(client: Client, username: str, password: str, code: str) -> Any:
    client.get("/admin/login/")
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "otp_token": code, "next": "/admin/"},
    )


def test_the_admin_login_asks_for_the_code(make_user: Callable[..., Any]) -> None:
    admin_user = make_user("site_admin", "admin")
    device = confirmed_device(admin_user)
    client = Client()
    page = client.get("/admin/login/").content.decode()
    assert 'name="otp_token"' in page
    missing = admin_login(client, "site_admin", PASSWORD, "")
    assert missing.status_code == 200 and "Enter the code" in missing.content.decode()
    wrong = admin_login(client, "site_admin", PASSWORD, f"{(int(totp_code(device)) + 1) % 1_000_000:06d}")
    assert wrong.status_code == 200 and "Wrong or expired code" in wrong.content.decode()
    assert client.get("/admin/").status_code == 302
    right = admin_login(client, "site_admin", PASSWORD, totp_code(device))
    assert right.status_code == 302 and right["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert kinds("site_admin")[-1] == "login.succeeded"


def test_a_staff_user_without_an_authenticator_is_told_to_enrol_in_the_app(make_user: Callable[..., Any]) -> None:
    make_user("site_admin", "admin")
    response = admin_login(Client(), "site_admin", PASSWORD, "123456")
    assert response.status_code == 200
    assert "Sign in to the app first" in response.content.decode()


def test_an_admin_session_without_the_second_factor_is_not_let_in(make_user: Callable[..., Any]) -> None:
    client = Client()
    client.force_login(make_user("site_admin", "admin"))
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    mfa_force_login(client, make_user("site_admin2", "admin"))
    assert client.get("/admin/").status_code == 200


def test_an_admin_resets_a_persons_mfa_and_they_enrol_again(
    make_user: Callable[..., Any], clinician_a: Any, browser: Client
) -> None:
    confirmed_device(clinician_a)
    mfa.recovery_codes_generate(user=clinician_a)
    admin = mfa_force_login(Client(), make_user("site_admin", "admin"))
    listing = admin.get("/admin/accounts/user/").content.decode()
    assert "MFA" in listing and "reset_mfa" in listing
    response = admin.post(
        "/admin/accounts/user/", {"action": "reset_mfa", "_selected_action": [clinician_a.pk], "index": 0}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=clinician_a).exists()
    assert not StaticToken.objects.filter(device__user=clinician_a).exists()
    event = SecurityEvent.objects.get(kind="mfa.reset")
    assert event.user_id == clinician_a.pk and event.details == {"by": "site_admin"}
    assert post(browser, LOGIN, {"username": "clinician_a", "password": PASSWORD}).json() == {
        "status": "mfa_enrollment_required"
    }


def test_a_supervisor_cannot_reset_mfa(supervisor: Any, clinician_a: Any) -> None:
    confirmed_device(clinician_a)
    client = mfa_force_login(Client(), supervisor)
    assert "reset_mfa" not in client.get("/admin/accounts/user/").content.decode()
    client.post("/admin/accounts/user/", {"action": "reset_mfa", "_selected_action": [clinician_a.pk], "index": 0})
    assert TOTPDevice.objects.filter(user=clinician_a).exists()


def test_the_admin_does_not_show_authenticator_secrets(make_user: Callable[..., Any]) -> None:
    superuser = make_user("root_admin", "admin")
    superuser.is_superuser = True
    superuser.save()
    admin = mfa_force_login(Client(), superuser)
    assert admin.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert admin.get("/admin/otp_static/staticdevice/").status_code == 404
