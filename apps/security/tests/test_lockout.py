"""Lockout after repeated failures, per account and per address: counted for passwords and codes,
the same answer for unknown users, audited, lifted by an admin, safe under parallel attempts."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.security.models import Lockout, SecurityEvent
from apps.security.testing import confirmed_device, mfa_force_login, sign_in, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
LOGIN = "/api/v1/auth/login/"
VERIFY = "/api/v1/auth/mfa/verify/"
ME = "/api/v1/me/"


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.SECURITY_LOCKOUT_ACCOUNT_FAILURES = 5
    settings.SECURITY_LOCKOUT_IP_FAILURES = 30
    settings.SECURITY_LOCKOUT_WINDOW_SECONDS = 900
    settings.SECURITY_LOCKOUT_SECONDS = 900
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def login(username: str, password: str, *, ip: str = "10.0.0.1", client: Client | None = None) -> Any:
    client = client or Client(enforce_csrf_checks=True)
    token = client.get("/api/v1/auth/csrf/").json()["csrfToken"]
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
        REMOTE_ADDR=ip,
    )


def count(kind: str) -> int:
    return SecurityEvent.objects.filter(kind=kind).count()


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(clinician_a: Any) -> None:
    for _ in range(5):
        assert login("clinician_a", "wrong").status_code == 400
    refused = login("clinician_a", PASSWORD)
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "locked_out" and body["errors"] == {} and body["message"]
    assert 890 <= body["retry_after"] <= 900
    assert int(refused["Retry-After"]) == body["retry_after"]
    assert count("login.failed") == 5
    assert count("lockout") == 1
    assert count("lockout.refused") == 1
    event = SecurityEvent.objects.get(kind="lockout")
    assert event.username == "clinician_a" and event.details["scope"] == "account"


def test_an_unknown_username_gets_the_same_answers(db: Any) -> None:
    answers = [login("nobody_here", "wrong").status_code for _ in range(6)]
    assert answers == [400, 400, 400, 400, 400, 403]
    assert login("nobody_here", "wrong").json()["code"] == "locked_out"


def test_usernames_are_compared_without_case(clinician_a: Any) -> None:
    for name in ["CLINICIAN_A", "Clinician_A", "clinician_a", "cLiNiCiAn_a", "CLINICIAN_a"]:
        login(name, "wrong")
    assert login("clinician_a", PASSWORD).status_code == 403


def test_failures_outside_the_window_do_not_add_up(clinician_a: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(4):
            login("clinician_a", "wrong")
    with time_machine.travel(start + dt.timedelta(seconds=901), tick=False):
        for _ in range(4):
            assert login("clinician_a", "wrong").status_code == 400
        assert login("clinician_a", PASSWORD).status_code == 200


def test_the_lockout_ends_by_itself_after_its_time(clinician_a: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            login("clinician_a", "wrong")
        assert login("clinician_a", PASSWORD).status_code == 403
    with time_machine.travel(start + dt.timedelta(seconds=899), tick=False):
        assert login("clinician_a", PASSWORD).status_code == 403
    with time_machine.travel(start + dt.timedelta(seconds=901), tick=False):
        assert login("clinician_a", PASSWORD).status_code == 200


def test_a_full_sign_in_clears_the_failures_but_the_password_step_alone_does_not(clinician_a: Any) -> None:
    device = confirmed_device(clinician_a)
    for _ in range(4):
        login("clinician_a", "wrong")
    # Right password, then a wrong code: the code failure is the fifth.
    client = Client(enforce_csrf_checks=True)
    assert login("clinician_a", PASSWORD, client=client).status_code == 200
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    token = client.cookies["csrftoken"].value
    assert (
        client.post(VERIFY, {"code": wrong}, content_type="application/json", HTTP_X_CSRFTOKEN=token).status_code == 400
    )
    assert login("clinician_a", PASSWORD).status_code == 403
    Lockout.objects.all().delete()

    for _ in range(4):
        login("clinician_a", "wrong")
    assert sign_in(Client(enforce_csrf_checks=True), "clinician_a", PASSWORD).status_code == 200
    for _ in range(4):
        assert login("clinician_a", "wrong").status_code == 400
    assert Lockout.objects.get(scope="account", key="clinician_a").locked_until is None


def test_wrong_codes_lock_the_account_and_end_the_pending_sign_in(clinician_a: Any) -> None:
    device = confirmed_device(clinician_a)
    client = Client(enforce_csrf_checks=True)
    login("clinician_a", PASSWORD, client=client)
    token = client.cookies["csrftoken"].value
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    answers = [
        client.post(VERIFY, {"code": wrong}, content_type="application/json", HTTP_X_CSRFTOKEN=token).status_code
        for _ in range(6)
    ]
    assert answers == [400, 400, 400, 400, 400, 403]
    assert count("mfa.failed") == 5 and count("lockout") == 1
    right = client.post(VERIFY, {"code": totp_code(device)}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert right.status_code == 401  # the pending sign-in ended with the lockout
    assert client.get(ME).status_code in (401, 403)


def test_many_failures_from_one_address_lock_the_address(make_user: Callable[..., Any]) -> None:
    make_user("dispatcher_9", "dispatcher")
    for i in range(30):
        assert login(f"someone_{i}", "wrong", ip="192.0.2.7").status_code == 400
    refused = login("dispatcher_9", PASSWORD, ip="192.0.2.7")
    assert refused.status_code == 403 and refused.json()["code"] == "locked_out"
    assert SecurityEvent.objects.get(kind="lockout").details["scope"] == "ip"
    # Another address is not affected, and no single account was locked.
    assert login("dispatcher_9", PASSWORD, ip="192.0.2.8").status_code == 200
    assert not Lockout.objects.filter(scope="account", locked_until__isnull=False).exists()


def test_the_address_comes_from_forwarded_for_only_behind_a_trusted_proxy(clinician_a: Any, settings: Any) -> None:
    settings.SECURITY_TRUSTED_PROXY_COUNT = 0
    client = Client(enforce_csrf_checks=True)
    token = client.get("/api/v1/auth/csrf/").json()["csrfToken"]
    client.post(
        LOGIN,
        {"username": "clinician_a", "password": "wrong"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="203.0.113.1",
    )
    assert Lockout.objects.filter(scope="ip", key="10.9.9.9").exists()
    assert not Lockout.objects.filter(scope="ip", key="203.0.113.1").exists()


def test_an_admin_lifts_a_lockout_and_it_is_audited(make_user: Callable[..., Any], clinician_a: Any) -> None:
    for _ in range(5):
        login("clinician_a", "wrong")
    assert login("clinician_a", PASSWORD).status_code == 403
    admin = mfa_force_login(Client(), make_user("site_admin", "admin"))
    listing = admin.get("/admin/security/lockout/", {"state": "locked"})
    assert listing.status_code == 200 and "clinician_a" in listing.content.decode()
    row = Lockout.objects.get(scope="account", key="clinician_a")
    response = admin.post("/admin/security/lockout/", {"action": "unlock", "_selected_action": [row.pk], "index": 0})
    assert response.status_code == 302
    assert login("clinician_a", PASSWORD).status_code == 200
    event = SecurityEvent.objects.get(kind="lockout.unlocked")
    assert event.user is not None and event.user.username == "site_admin"
    assert event.details == {"scope": "account", "key": "clinician_a"}


def test_a_supervisor_cannot_lift_a_lockout(supervisor: Any, clinician_a: Any) -> None:
    for _ in range(5):
        login("clinician_a", "wrong")
    client = mfa_force_login(Client(), supervisor)
    row = Lockout.objects.get(scope="account", key="clinician_a")
    client.post("/admin/security/lockout/", {"action": "unlock", "_selected_action": [row.pk], "index": 0})
    assert login("clinician_a", PASSWORD).status_code == 403


def test_the_admin_login_is_locked_too_and_says_so(make_user: Callable[..., Any]) -> None:
    admin_user = make_user("site_admin", "admin")
    device = confirmed_device(admin_user)
    client = Client()
    for _ in range(5):
        client.post("/admin/login/", {"username": "site_admin", "password": "wrong", "otp_token": "000000"})
    response = client.post(
        "/admin/login/", {"username": "site_admin", "password": PASSWORD, "otp_token": totp_code(device)}
    )
    assert response.status_code == 200
    assert "Too many failed attempts" in response.content.decode()
    assert client.get("/admin/").status_code == 302
    # The API sign-in shares the same lockout.
    assert login("site_admin", PASSWORD).status_code == 403


def test_wrong_admin_codes_count_toward_the_lockout(make_user: Callable[..., Any]) -> None:
    admin_user = make_user("site_admin", "admin")
    device = confirmed_device(admin_user)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    for _ in range(5):
        Client().post("/admin/login/", {"username": "site_admin", "password": PASSWORD, "otp_token": wrong})
    assert count("mfa.failed") == 5
    assert login("site_admin", PASSWORD).status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_never_get_past_the_threshold(make_user: Callable[..., Any]) -> None:
    make_user("target", "clinician")
    attempts = 12
    barrier = threading.Barrier(attempts)
    answers: list[int] = []
    lock = threading.Lock()

    def guess(i: int) -> None:
        try:
            client = Client(enforce_csrf_checks=True)
            token = client.get("/api/v1/auth/csrf/").json()["csrfToken"]
            barrier.wait(timeout=30)
            response = client.post(
                LOGIN,
                {"username": "target", "password": f"wrong-{i}"},
                content_type="application/json",
                HTTP_X_CSRFTOKEN=token,
                REMOTE_ADDR=f"10.1.0.{i}",
            )
            with lock:
                answers.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # Exactly five guesses were checked; every other one was refused without checking.
    assert sorted(answers) == [400] * 5 + [403] * 7
    assert count("login.failed") == 5
    assert count("lockout") == 1
    assert count("lockout.refused") == 7


def test_the_purge_forgets_stale_counters_but_keeps_lockouts_and_recent_failures(db: Any) -> None:
    from apps.security.tasks import lockout_purge

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login("old_spray", "wrong")
        for _ in range(5):
            login("locked_long", "wrong")
    Lockout.objects.filter(key="locked_long").update(locked_until=start + dt.timedelta(days=1))
    with time_machine.travel(start + dt.timedelta(seconds=1000), tick=False):
        login("recent", "wrong", ip="10.0.0.2")
        assert lockout_purge() == 2  # old_spray and the address 10.0.0.1
    assert set(Lockout.objects.values_list("key", flat=True)) == {"locked_long", "recent", "10.0.0.2"}
