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
]
