"""The API's one JSON parser: bounded in size and in nesting, refusing what JSON does not allow.

Python's ``json`` has no depth limit of its own: a body nested ~1,000 levels deep (``[[[...]]]``)
raises RecursionError inside the decoder (a 500), and one a little shallower parses and then
overflows whatever walks it next (the idempotency fingerprint, a serializer). So the body is read
with a byte limit (``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413 above it), decoded as strict UTF-8 (an
invalid byte is a 400), parsed (NaN and Infinity refused: not JSON), and its depth measured without
recursion; deeper than ``API_JSON_MAX_DEPTH`` is a 400. Every error answers in the API's shape
(apps/core/errors.py), in DEBUG too. See docs/security.md, "Input".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser

DEFAULT_MAX_DEPTH = 32


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


def max_body_bytes() -> int:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return int(limit) if limit is not None else 2_621_440


def max_depth() -> int:
    return int(getattr(settings, "API_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def too_large_message() -> str:
    return f"Request body too large: at most {max_body_bytes():,} bytes."


def json_depth(value: Any) -> int:
    """Nesting depth of parsed JSON (a scalar is 0, ``[]`` is 1, ``[[1]]`` is 2), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        elif not isinstance(node, list):
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in node if isinstance(child, dict | list))
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON.")


def parse_json_bytes(raw: bytes) -> Any:
    """Parse a request body; raises ParseError (400) or RequestTooLarge (413) with a clear message."""
    if len(raw) > max_body_bytes():
        raise RequestTooLarge(too_large_message())
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise exceptions.ParseError(f"The body is not valid UTF-8 (byte {exc.start}).") from exc
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise exceptions.ParseError(f"JSON nested too deeply: at most {max_depth()} levels.") from exc
    except ValueError as exc:
        raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
    if json_depth(data) > max_depth():
        raise exceptions.ParseError(f"JSON nested too deeply: at most {max_depth()} levels.")
    return data


class JSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        limit = max_body_bytes()
        # One byte more than allowed tells "too large" from "exactly at the limit", without reading
        # (or holding) the rest of a huge body.
        raw = stream.read(limit + 1) if stream is not None else b""
        return parse_json_bytes(raw)
