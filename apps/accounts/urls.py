from __future__ import annotations

from django.urls import path

from .apis import CsrfApi, LoginApi, LogoutApi, MeApi

urlpatterns = [
    path("auth/csrf/", CsrfApi.as_view(), name="auth-csrf"),
    path("auth/login/", LoginApi.as_view(), name="auth-login"),
    path("auth/logout/", LogoutApi.as_view(), name="auth-logout"),
    path("me/", MeApi.as_view(), name="me"),
]
