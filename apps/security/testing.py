"""Test helpers for the second factor (used by conftest.py and the admin tests)."""

from __future__ import annotations

from typing import Any


def mfa_force_login(client: Any, user: Any) -> Any:
    """``client.force_login(user)`` plus a verified second factor: a confirmed authenticator stored in
    the session as ``django_otp.login`` does after a real code. The admin site needs it."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
