"""Django's 403 and CSRF-failure views, audited (settings: ``handler403``, ``CSRF_FAILURE_VIEW``)."""

from __future__ import annotations

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.csrf import csrf_failure as default_csrf_failure
from django.views.defaults import permission_denied

from .audit import record_denial


def permission_denied_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponseBase:
    """403 outside DRF (the admin, plain Django views): audited, then Django's usual page."""
    record_denial(request, reason="permission")
    return permission_denied(request, exception or Exception("Forbidden"))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponseBase:
    """A CSRF failure on a Django form (the admin): audited, then Django's usual page."""
    record_denial(request, reason="csrf")
    return default_csrf_failure(request, reason=reason)
