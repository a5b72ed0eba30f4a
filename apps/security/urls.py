"""Sign-in, MFA, me, password, sessions and the lost-phone revoke (``/api/v1/...``)."""

from __future__ import annotations

from django.urls import path

from .apis import (
    CsrfApi,
    LoginApi,
    LogoutApi,
    MeApi,
    MfaEnrollApi,
    MfaEnrollConfirmApi,
    MfaRecoveryCodesApi,
    MfaStatusApi,
    MfaVerifyApi,
    PasswordChangeApi,
)
from .session_apis import (
    DeviceRevokeApi,
    MySessionApi,
    MySessionsApi,
    SessionLockApi,
    SessionStatusApi,
    SessionUnlockApi,
    UserRevokeDevicesApi,
)

urlpatterns = [
    path("auth/csrf/", CsrfApi.as_view(), name="auth-csrf"),
    path("auth/login/", LoginApi.as_view(), name="auth-login"),
    path("auth/mfa/", MfaStatusApi.as_view(), name="auth-mfa"),
    path("auth/mfa/verify/", MfaVerifyApi.as_view(), name="auth-mfa-verify"),
    path("auth/mfa/enroll/", MfaEnrollApi.as_view(), name="auth-mfa-enroll"),
    path("auth/mfa/enroll/confirm/", MfaEnrollConfirmApi.as_view(), name="auth-mfa-enroll-confirm"),
    path("auth/mfa/recovery-codes/", MfaRecoveryCodesApi.as_view(), name="auth-mfa-recovery-codes"),
    path("auth/password/", PasswordChangeApi.as_view(), name="auth-password"),
    path("auth/logout/", LogoutApi.as_view(), name="auth-logout"),
    path("me/", MeApi.as_view(), name="me"),
    path("auth/session/", SessionStatusApi.as_view(), name="auth-session"),
    path("auth/lock/", SessionLockApi.as_view(), name="auth-lock"),
    path("auth/unlock/", SessionUnlockApi.as_view(), name="auth-unlock"),
    path("auth/sessions/", MySessionsApi.as_view(), name="auth-sessions"),
    path("auth/sessions/<int:session_id>/", MySessionApi.as_view(), name="auth-session-detail"),
    path("security/users/<int:user_id>/revoke-devices/", UserRevokeDevicesApi.as_view(), name="security-user-revoke"),
    path("security/devices/<uuid:device_id>/revoke/", DeviceRevokeApi.as_view(), name="security-device-revoke"),
]
