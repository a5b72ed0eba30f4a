"""Test helpers for the second factor (used by conftest.py and the admin tests)."""

from __future__ import annotations

from typing import Any


def mfa_force_login(client: Any, user: Any) -> Any:
    """``client.force_login(user)`` plus a verified second factor: a confirmed authenticator stored in
    the session as ``django_otp.login`` does after a real code. The admin site needs it."""
    from django_otp import DEVICE_ID_SESSION_KEY

    client.force_login(user)
    device = confirmed_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def totp_code(device: Any, *, steps: int = 0) -> str:
    """The code ``device`` shows now (``steps`` time steps later or earlier), as an app computes it."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():0{device.digits}d}"


def confirmed_device(user: Any) -> Any:
    """The user's confirmed authenticator, created if missing."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    return device


def sign_in(client: Any, username: str, password: str) -> Any:
    """The app's whole sign-in over the API (CSRF, password, code); returns the Me response. The
    user must have a confirmed authenticator; a second sign-in within the same 30-second step
    needs a time jump (a code is accepted once)."""
    from django.contrib.auth import get_user_model

    csrf = client.get("/api/v1/auth/csrf/").json()["csrfToken"]
    step1 = client.post(
        "/api/v1/auth/login/",
        {"username": username, "password": password},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert step1.status_code == 200, step1.content  # noqa: S101 - test helper
    user = get_user_model().objects.get(username=username)
    code = totp_code(confirmed_device(user))
    return client.post(
        "/api/v1/auth/mfa/verify/", {"code": code}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
