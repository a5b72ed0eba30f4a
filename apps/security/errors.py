"""The API's exception handler (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``): core's one error shape,
plus the audit of every permission denial (core imports no app; security wraps it)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from rest_framework import exceptions
from rest_framework.response import Response

from apps.core.errors import exception_handler as core_exception_handler

from .audit import record_denial


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = core_exception_handler(exc, context)
    request = context.get("request")
    denied = isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied)
    if response is not None and request is not None and denied:
        message = str(response.data.get("message", "")) if isinstance(response.data, dict) else ""
        record_denial(request, reason="csrf" if message.startswith("CSRF Failed") else "permission")
    return response
