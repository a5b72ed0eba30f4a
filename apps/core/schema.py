"""OpenAPI schema generation tweaks shared by every app."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Names a nested serializer after its view: ``LoginApi.Input`` becomes the ``LoginApiInput`` component.

    STYLE.md puts ``Input``/``Output`` serializers inside each api class, so by the plain class name
    every app's ``Input`` would be one colliding ``Input`` component (drf-spectacular warns and the
    schema is wrong).
    """

    def get_serializer_name(self, serializer: Any, direction: Any) -> str:
        qualname: str = type(serializer).__qualname__
        if "." in qualname and "<locals>" not in qualname:
            return qualname.replace(".", "")
        name: str = type(serializer).__name__
        return name


# Every error the API answers has one shape (apps.core.errors): {"message", "errors", ...extra}.
# Extra keys vary (409 carries "current", 429 and a lockout carry "retry_after", a locked session
# carries "code"), so the component allows them.
ERROR_COMPONENT: dict[str, Any] = {
    "type": "object",
    "description": "The one error shape of the API; some errors add keys such as `code`, `current` or `retry_after`.",
    "properties": {
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Field name → messages (`non_field_errors` for the whole input).",
        },
        "code": {"type": "string"},
        "retry_after": {"type": "integer"},
    },
    "required": ["message", "errors"],
    "additionalProperties": True,
}

ERROR_DESCRIPTIONS: dict[str, str] = {
    "400": "Invalid input (field errors in `errors`).",
    "401": "Not signed in, or the session is locked (`code: session_locked`) or expired"
    " (`code: session_expired`), or a bad API key or signature.",
    "403": "Signed in but not allowed (role), a missing CSRF token, or a locked-out account (`code: locked_out`).",
    "404": "No such object, or one this user may not see.",
    "409": "Illegal state change or stale revision; `current` carries the server's state.",
    "413": "Request body over the size limit (`DATA_UPLOAD_MAX_MEMORY_SIZE`).",
    "422": "An `Idempotency-Key` reused with a different request.",
    "429": "Rate limited; `retry_after` seconds (also the `Retry-After` header).",
}
_WRITE_METHODS = {"post", "put", "patch", "delete"}


def _error_codes(method: str, operation: dict[str, Any]) -> list[str]:
    params = operation.get("parameters", [])
    codes = ["401", "403", "429"]
    if operation.get("requestBody") or any(p.get("in") == "query" for p in params) or method in _WRITE_METHODS:
        codes.append("400")
    if (
        any(p.get("in") == "path" or p.get("name") == "page" for p in params)  # a page past the end: 404
        or method in _WRITE_METHODS  # a write may name an object (by id in its body) this user may not see
    ):
        codes.append("404")
    if method in _WRITE_METHODS:
        codes += ["409", "413", "422"]
    return sorted(codes)


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: document our error responses on every operation.

    Views declare their success responses; the errors come from shared machinery (authentication,
    permissions, the exception handler, idempotency, throttles), so they are added here once, with the
    ``Error`` component, and a client (or schemathesis' conformance checks) can rely on them. An
    operation that declares its own response for a code keeps it.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_COMPONENT)
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code, response in responses.items():
                # An error a view declares with only a description (e.g. 503) has the one error shape.
                if code[:1] in {"4", "5"} and "content" not in response:
                    response["content"] = {"application/json": {"schema": ref}}
            for code in _error_codes(method, operation):
                responses.setdefault(
                    code, {"content": {"application/json": {"schema": ref}}, "description": ERROR_DESCRIPTIONS[code]}
                )
    return result
