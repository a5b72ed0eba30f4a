from __future__ import annotations

from django.urls import path

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
    path("auth/session/", SessionStatusApi.as_view(), name="auth-session"),
    path("auth/lock/", SessionLockApi.as_view(), name="auth-lock"),
    path("auth/unlock/", SessionUnlockApi.as_view(), name="auth-unlock"),
    path("auth/sessions/", MySessionsApi.as_view(), name="auth-sessions"),
    path("auth/sessions/<int:session_id>/", MySessionApi.as_view(), name="auth-session-detail"),
    path("security/users/<int:user_id>/revoke-devices/", UserRevokeDevicesApi.as_view(), name="security-user-revoke"),
    path("security/devices/<uuid:device_id>/revoke/", DeviceRevokeApi.as_view(), name="security-device-revoke"),
]
