"""Session rules over HTTP: idle lock, unlock, 12-hour limit, my sessions, lost-phone revoke."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from apps.realtime.models import Device, PushSubscription
from apps.security import middleware, sessions
from apps.security.models import SecurityEvent, UserSession

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # conftest make_user
ME = "/api/v1/me/"
SESSION = "/api/v1/auth/session/"
LOCK = "/api/v1/auth/lock/"
UNLOCK = "/api/v1/auth/unlock/"
SESSIONS = "/api/v1/auth/sessions/"
T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


def signed_in(user: Any, agent: str = "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    client.force_login(user)
    return client


def at(minutes: float) -> Any:
    return time_machine.travel(T0 + dt.timedelta(minutes=minutes), tick=False)


def events(kind: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(kind=kind))


def test_sign_in_records_a_session_with_label_ip_and_limits(officer_a: Any) -> None:
    with at(0):
        client = signed_in(officer_a)
        body = client.get(SESSION).json()
        row = UserSession.objects.get(user=officer_a)
        assert row.label == "Chrome on Android"
        assert row.ip == "127.0.0.1"
        assert row.session_key == client.session.session_key
    assert body["authenticated"] is True and body["locked"] is False
    assert body["idle_timeout_seconds"] == 1800
    assert body["user"] == {"id": officer_a.pk, "username": "officer_a", "full_name": officer_a.display_name}
    assert dt.datetime.fromisoformat(body["locks_at"]) == T0 + dt.timedelta(minutes=30)
    assert dt.datetime.fromisoformat(body["expires_at"]) == T0 + dt.timedelta(hours=12)


def test_anonymous_session_status() -> None:
    body = Client().get(SESSION).json()
    assert body == {
        "authenticated": False,
        "locked": False,
        "idle_timeout_seconds": 1800,
        "locks_at": None,
        "expires_at": None,
        "user": None,
    }


def test_the_session_locks_after_30_idle_minutes_and_the_lock_is_audited(officer_a: Any) -> None:
    with at(0):
        client = signed_in(officer_a)
    with at(29.5):
        assert client.get(ME).status_code == 200
    with at(29.5 + 29.9):
        assert client.get(ME, HTTP_X_BACKGROUND="1").status_code == 200
    with at(29.5 + 30.1):
        response = client.get(ME)
        assert response.status_code == 401
        assert response.json() == {
            "message": "Your session is locked. Enter your password to continue.",
            "errors": {},
            "code": "session_locked",
        }
        assert client.get(SESSION).json()["locked"] is True
        assert client.get("/api/v1/shifts/").status_code == 401
    (event,) = events(SecurityEvent.Kind.SESSION_LOCKED)
    assert event.user == officer_a and event.details["reason"] == "idle"


def test_background_requests_do_not_count_as_activity(officer_a: Any) -> None:
    with at(0):
        client = signed_in(officer_a)
    for minute in (10, 20, 29):
        with at(minute):
            assert client.get(ME, HTTP_X_BACKGROUND="1").status_code == 200
            assert client.get(SESSION).status_code == 200  # the status itself never counts
    with at(30.5):
        assert client.get(ME, HTTP_X_BACKGROUND="1").json()["code"] == "session_locked"


def test_a_foreground_request_moves_the_idle_lock(officer_a: Any) -> None:
    with at(0):
        client = signed_in(officer_a)
    with at(20):
        assert client.get(ME).status_code == 200
    with at(45):
        assert client.get(ME).status_code == 200
        assert dt.datetime.fromisoformat(client.get(SESSION).json()["locks_at"]) == T0 + dt.timedelta(minutes=75)


def test_a_locked_session_may_only_call_status_unlock_logout_and_csrf() -> None:
    assert middleware.locked_allowed_paths() == {
        "/api/v1/auth/session/",
        "/api/v1/auth/unlock/",
        "/api/v1/auth/logout/",
        "/api/v1/auth/csrf/",
    }


def test_the_app_can_lock_now_and_unlock_with_the_password(officer_a: Any) -> None:
    client = signed_in(officer_a)
    assert client.post(LOCK).status_code == 204
    assert client.get(ME).json()["code"] == "session_locked"
    assert client.get("/api/v1/auth/csrf/").status_code == 200
    wrong = client.post(UNLOCK, {"password": "nope"}, content_type="application/json")
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == {"password": ["Wrong password."]}
    assert client.get(ME).status_code == 401
    ok = client.post(UNLOCK, {"password": PASSWORD}, content_type="application/json")
    assert ok.status_code == 200
    assert ok.json()["username"] == "officer_a"
    assert client.get(ME).status_code == 200
    kinds = set(SecurityEvent.objects.values_list("kind", flat=True))
    assert {SecurityEvent.Kind.SESSION_LOCKED, SecurityEvent.Kind.SESSION_UNLOCKED} <= kinds


def test_unlock_input_errors_are_400(officer_a: Any) -> None:
    client = signed_in(officer_a)
    client.post(LOCK)
    response = client.post(UNLOCK, {}, content_type="application/json")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]


def test_five_wrong_unlocks_end_the_session(officer_a: Any, settings: Any) -> None:
    settings.SECURITY_UNLOCK_MAX_FAILURES = 5
    client = signed_in(officer_a)
    client.post(LOCK)
    for _ in range(4):
        assert client.post(UNLOCK, {"password": "nope"}, content_type="application/json").status_code == 400
    last = client.post(UNLOCK, {"password": "nope"}, content_type="application/json")
    assert last.status_code == 401
    assert last.json()["code"] == "session_expired"
    assert UserSession.objects.get(user=officer_a).end_reason == UserSession.EndReason.UNLOCK_FAILED
    assert client.post(UNLOCK, {"password": PASSWORD}, content_type="application/json").status_code in (401, 403)
    assert client.get(SESSION).json()["authenticated"] is False


def test_unlock_while_the_account_is_locked_out_says_so_and_keeps_the_session(officer_a: Any, settings: Any) -> None:
    settings.SECURITY_UNLOCK_MAX_FAILURES = 10
    settings.SECURITY_LOCKOUT_ACCOUNT_FAILURES = 3
    client = signed_in(officer_a)
    client.post(LOCK)
    for _ in range(3):
        assert client.post(UNLOCK, {"password": "nope"}, content_type="application/json").status_code == 400
    refused = client.post(UNLOCK, {"password": PASSWORD}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "locked_out"
    assert int(refused["Retry-After"]) == refused.json()["retry_after"] > 0
    assert client.get(SESSION).json()["locked"] is True  # still locked, not ended
    assert UserSession.objects.get(user=officer_a).ended_at is None


def test_the_session_ends_12_hours_after_sign_in_whatever_the_activity(officer_a: Any) -> None:
    with at(0):
        client = signed_in(officer_a)
        key = client.session.session_key
    for minute in range(20, 12 * 60, 20):
        with at(minute):
            assert client.get(ME).status_code == 200, minute
    with at(12 * 60 + 0.1):
        response = client.get(ME)
        assert response.status_code == 401
        assert response.json()["code"] == "session_expired"
        assert client.get(ME).status_code in (401, 403)  # signed out now, as anyone
    row = UserSession.objects.get(user=officer_a)
    assert row.end_reason == UserSession.EndReason.EXPIRED
    assert not Session.objects.filter(session_key=key).exists()
    (event,) = events(SecurityEvent.Kind.SESSION_EXPIRED)
    assert event.user == officer_a


def test_an_expired_session_on_an_admin_page_is_signed_out(supervisor: Any) -> None:
    from apps.security.testing import mfa_force_login

    with at(0):
        client = mfa_force_login(Client(), supervisor)
        assert client.get("/admin/").status_code == 200
    with at(31):
        locked = client.get("/admin/")
        assert locked.status_code == 302 and "/admin/login/" in locked["Location"]
    with at(12 * 60 + 1):
        expired = client.get("/admin/")
        assert expired.status_code == 302 and "/admin/login/" in expired["Location"]


def test_a_signed_in_session_without_a_record_is_not_accepted(officer_a: Any) -> None:
    client = signed_in(officer_a)
    UserSession.objects.all().delete()
    assert client.get(ME).status_code in (401, 403)


def test_my_sessions_lists_only_my_live_sessions_and_marks_the_current_one(officer_a: Any, officer_b: Any) -> None:
    phone = signed_in(officer_a)
    laptop = signed_in(officer_a, agent="Mozilla/5.0 (Windows NT 10.0) Firefox/128.0")
    signed_in(officer_b).get(SESSION)
    ended = signed_in(officer_a)
    ended.post("/api/v1/auth/logout/")
    assert laptop.get(SESSION).status_code == 200  # its first request tells its user agent
    rows = phone.get(SESSIONS).json()
    assert len(rows) == 2
    assert {r["label"] for r in rows} == {"Chrome on Android", "Firefox on Windows"}
    current = [r for r in rows if r["current"]]
    assert len(current) == 1 and current[0]["label"] == "Chrome on Android"
    assert set(rows[0]) == {"id", "device_id", "label", "user_agent", "ip", "created_at", "last_activity_at", "current"}
    assert laptop.get(ME).status_code == 200


def test_sign_out_this_device_ends_that_session_only(officer_a: Any) -> None:
    phone = signed_in(officer_a)
    laptop = signed_in(officer_a, agent="Mozilla/5.0 (Windows NT 10.0) Firefox/128.0")
    laptop_row = UserSession.objects.get(session_key=laptop.session.session_key)
    assert phone.delete(f"{SESSIONS}{laptop_row.pk}/").status_code == 204
    assert laptop.get(ME).status_code in (401, 403)
    assert phone.get(ME).status_code == 200
    laptop_row.refresh_from_db()
    assert laptop_row.end_reason == UserSession.EndReason.REVOKED
    assert events(SecurityEvent.Kind.SESSION_REVOKED)[0].details["session"] == laptop_row.pk


def test_deleting_another_users_session_is_404(officer_a: Any, officer_b: Any) -> None:
    mine = signed_in(officer_a)
    theirs = signed_in(officer_b)
    row = UserSession.objects.get(user=officer_b)
    assert mine.delete(f"{SESSIONS}{row.pk}/").status_code == 404
    assert mine.delete(f"{SESSIONS}999999/").status_code == 404
    assert theirs.get(ME).status_code == 200


def phone_of(user: Any) -> tuple[Device, PushSubscription]:
    device = Device.objects.create(id=uuid.uuid4(), user=user, last_seen_at=timezone.now())
    push = PushSubscription.objects.create(
        device=device, user=user, endpoint=f"https://push.example/{device.pk}", p256dh="k", auth="a"
    )
    return device, push


def test_a_request_with_x_device_id_links_the_session_to_the_device(officer_a: Any) -> None:
    client = signed_in(officer_a)
    device, _ = phone_of(officer_a)
    client.get(ME, HTTP_X_DEVICE_ID=str(device.pk))
    assert UserSession.objects.get(user=officer_a).device_id == device.pk
    assert client.get(SESSIONS).json()[0]["device_id"] == str(device.pk)


def test_supervisor_revokes_a_lost_phone_sessions_push_subscriptions_and_devices(
    officer_a: Any, supervisor: Any
) -> None:
    phone = signed_in(officer_a)
    laptop = signed_in(officer_a)
    phone_of(officer_a)
    phone_of(officer_a)
    boss = signed_in(supervisor)
    response = boss.post(f"/api/v1/security/users/{officer_a.pk}/revoke-devices/")
    assert response.status_code == 200
    assert response.json() == {"sessions_revoked": 2, "push_subscriptions_removed": 2, "devices_revoked": 2}
    assert phone.get(ME).status_code in (401, 403)
    assert laptop.get(ME).status_code in (401, 403)
    assert not PushSubscription.objects.filter(user=officer_a).exists()
    assert not Device.objects.filter(user=officer_a, revoked_at__isnull=True).exists()
    assert set(UserSession.objects.filter(user=officer_a).values_list("end_reason", flat=True)) == {"lost_device"}
    (event,) = events(SecurityEvent.Kind.DEVICE_REVOKED)
    assert event.user == supervisor
    assert event.details["target_user"] == officer_a.pk and event.details["sessions_revoked"] == 2
    assert boss.get(ME).status_code == 200


@pytest.mark.parametrize("role", ["officer", "dispatcher", "clinician", "analyst"])
def test_only_supervisors_and_admins_revoke_a_users_devices(
    make_user: Callable[..., Any], officer_a: Any, role: str
) -> None:
    caller = signed_in(make_user(f"someone_{role}", role))
    assert caller.post(f"/api/v1/security/users/{officer_a.pk}/revoke-devices/").status_code == 403
    assert Client().post(f"/api/v1/security/users/{officer_a.pk}/revoke-devices/").status_code in (401, 403)


def test_revoking_an_unknown_user_is_404(supervisor: Any) -> None:
    assert signed_in(supervisor).post("/api/v1/security/users/999999/revoke-devices/").status_code == 404


def test_a_device_revoke_ends_only_that_devices_sessions(officer_a: Any, officer_b: Any, supervisor: Any) -> None:
    phone = signed_in(officer_a)
    laptop = signed_in(officer_a)
    device, _ = phone_of(officer_a)
    other, _ = phone_of(officer_a)
    phone.get(ME, HTTP_X_DEVICE_ID=str(device.pk))
    # Another officer may not revoke it, and does not learn that it exists.
    assert signed_in(officer_b).post(f"/api/v1/security/devices/{device.pk}/revoke/").status_code == 404
    # The owner may (from another browser).
    response = laptop.post(f"/api/v1/security/devices/{device.pk}/revoke/")
    assert response.json() == {"sessions_revoked": 1, "push_subscriptions_removed": 1, "devices_revoked": 1}
    assert phone.get(ME).status_code in (401, 403)
    assert laptop.get(ME).status_code == 200
    assert PushSubscription.objects.filter(device=other).exists()
    # A supervisor may revoke anyone's; twice is harmless.
    assert signed_in(supervisor).post(f"/api/v1/security/devices/{other.pk}/revoke/").json()["devices_revoked"] == 1
    again = signed_in(supervisor).post(f"/api/v1/security/devices/{other.pk}/revoke/").json()
    assert again == {"sessions_revoked": 0, "push_subscriptions_removed": 0, "devices_revoked": 0}
    assert signed_in(supervisor).post(f"/api/v1/security/devices/{uuid.uuid4()}/revoke/").status_code == 404


def test_the_sweep_records_expired_and_idle_sessions(officer_a: Any, officer_b: Any) -> None:
    with at(0):
        signed_in(officer_a)
    with at(11 * 60):
        signed_in(officer_b)
    with at(12 * 60 + 1):
        assert sessions.sessions_sweep() == {"expired": 1, "gone": 0, "locked": 1}
        assert sessions.sessions_sweep() == {"expired": 0, "gone": 0, "locked": 0}
    a = UserSession.objects.get(user=officer_a)
    b = UserSession.objects.get(user=officer_b)
    assert a.end_reason == UserSession.EndReason.EXPIRED
    assert b.locked_at is not None and b.ended_at is None


def test_a_new_sign_in_on_the_same_browser_replaces_the_record(officer_a: Any) -> None:
    client = signed_in(officer_a)
    client.force_login(officer_a)
    rows = list(UserSession.objects.filter(user=officer_a).order_by("pk"))
    assert [r.end_reason for r in rows] == [UserSession.EndReason.REAUTHENTICATED, ""]
    assert client.get(ME).status_code == 200


def test_admin_actions_revoke_sessions_devices_and_users(officer_a: Any, make_user: Callable[..., Any]) -> None:
    from apps.security.testing import mfa_force_login

    admin_user = make_user("admin_x", "admin")
    boss = mfa_force_login(Client(), admin_user)
    phone = signed_in(officer_a)
    laptop = signed_in(officer_a)
    device, _ = phone_of(officer_a)
    phone.get(ME, HTTP_X_DEVICE_ID=str(device.pk))

    assert boss.get("/admin/security/usersession/?state=active").status_code == 200
    laptop_row = UserSession.objects.get(session_key=laptop.session.session_key)
    response = boss.post(
        "/admin/security/usersession/", {"action": "revoke", "_selected_action": [laptop_row.pk]}, follow=True
    )
    assert b"1 session(s) revoked." in response.content
    assert laptop.get(ME).status_code in (401, 403)

    response = boss.post(
        "/admin/realtime/device/", {"action": "revoke", "_selected_action": [str(device.pk)]}, follow=True
    )
    assert b"1 device(s) revoked, 1 session(s) ended, 1 push subscription(s) removed." in response.content
    assert phone.get(ME).status_code in (401, 403)

    again = signed_in(officer_a)
    phone_of(officer_a)
    response = boss.post(
        "/admin/accounts/user/", {"action": "revoke_user_devices", "_selected_action": [officer_a.pk]}, follow=True
    )
    assert b"1 session(s) ended, 1 push subscription(s) removed, 1 device(s) revoked." in response.content
    assert again.get(ME).status_code in (401, 403)
    assert boss.get("/admin/security/usersession/?state=ended").status_code == 200
