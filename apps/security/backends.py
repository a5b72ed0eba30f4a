"""The authentication backend: Django's ModelBackend behind the lockout (apps.security.lockout).

It is the only backend, so every password check (the app's sign-in, the admin's login form, the
unlock of an idle-locked session, a password change) is counted and refused while locked out, as
django-axes does: raising ``PermissionDenied`` stops ``authenticate()`` from asking anyone else.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from . import lockout


class LockoutModelBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username is None:
            username = kwargs.get("username")
        if username is None or password is None:
            return None
        try:
            with lockout.attempt(request=request, username=username) as attempt:
                user = super().authenticate(request, username=username, password=password, **kwargs)
                if user is None:
                    attempt.failed("password")
        except lockout.LockedOut as exc:
            raise PermissionDenied(str(exc)) from exc
        return user
