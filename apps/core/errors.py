"""One error type family and one error shape for every 4xx: {"message": ..., "errors": {field: [...]}}.

Services raise these (or Django's ValidationError); the DRF exception handler turns them into the
shape (settings name apps.security.errors.exception_handler, which audits 403s around this one). A
409 also carries ``current``: the server's current state, so a client can show it. A 429
(rate limit) carries ``retry_after`` (seconds) in the body and the ``Retry-After`` header; so does any
ApplicationError raised with ``retry_after=...`` (e.g. a lockout).
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.extra = extra


class Invalid(ApplicationError):
    status_code = status.HTTP_400_BAD_REQUEST


class Conflict(ApplicationError):
    """An illegal state change: answered with 409 and the current state (``current=...``)."""

    status_code = status.HTTP_409_CONFLICT


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND


class Unprocessable(ApplicationError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


def _as_field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, list | tuple):
                flat: list[str] = []
                for item in value:
                    if isinstance(item, dict):
                        for sub_key, sub_val in _as_field_errors(item).items():
                            out[f"{key}.{sub_key}"] = sub_val
                    else:
                        flat.append(str(item))
                if flat:
                    out[str(key)] = flat
            elif isinstance(value, dict):
                for sub_key, sub_val in _as_field_errors(value).items():
                    # A nested serializer's own error (e.g. an empty list) belongs to the field itself.
                    name = str(key) if sub_key == "non_field_errors" else f"{key}.{sub_key}"
                    out[name] = out.get(name, []) + sub_val
            else:
                out[str(key)] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(d) for d in detail]}
    return {}


def django_validation_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errs for m in e.messages] for field, errs in exc.error_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def _retry_after_seconds(value: Any) -> int | None:
    try:
        seconds = math.ceil(float(value))
    except (TypeError, ValueError):
        return None
    return max(1, seconds)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        body: dict[str, Any] = {"message": exc.message, "errors": exc.errors, **exc.extra}
        app_response = Response(body, status=exc.status_code)
        # An error that says when to come back (a lockout) says it in the header too (RFC 9110 10.2.3).
        retry_after = _retry_after_seconds(exc.extra.get("retry_after"))
        if retry_after is not None:
            app_response["Retry-After"] = str(retry_after)
        return app_response
    if isinstance(exc, DjangoValidationError):
        errors = django_validation_errors(exc)
        return Response({"message": "Invalid input.", "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real 500: let Django log it
    if isinstance(exc, exceptions.ValidationError):
        errors = _as_field_errors(exc.detail)
        response.data = {"message": "Invalid input.", "errors": errors}
    elif isinstance(exc, exceptions.Throttled):
        # 429: DRF already set the Retry-After header from exc.wait; the body says the same.
        retry_after = _retry_after_seconds(getattr(exc, "wait", None)) or 1
        response["Retry-After"] = str(retry_after)
        response.data = {
            "message": f"Too many requests. Try again in {retry_after} seconds.",
            "errors": {},
            "retry_after": retry_after,
        }
    else:
        detail = getattr(exc, "detail", str(exc))
        response.data = {"message": str(detail), "errors": {}}
    return response
