"""Every answer under /api/ is JSON in the API's error shape, in DEBUG too.

Django answers some errors before (or around) any API view, as HTML pages: a path no route matches
or an id its converter refuses (``/incidents/-1/``: in DEBUG the technical 404 page), a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` read by anything (RequestDataTooBig: the HTML 400 page). An API
client (the PWA's outbox, the CAD) reads every error as ``{"message", "errors"}``, so:

- a body whose Content-Length is over the limit is refused here with 413, before anything reads it
  (the JSON parser, apps/core/parsers.py, enforces the same limit on bodies without a length);
- any other error answer under /api/ that is not JSON is rewritten in place to the shape, keeping
  its status and headers. A 5xx keeps Django's debug page in DEBUG (it is for the developer).

This is the outermost middleware, so it sees every answer the inner ones made.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase

from .parsers import max_body_bytes, too_large_message

API_PREFIX = "/api/"

MESSAGES = {
    400: "Bad request.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "Request body too large.",
}


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _is_json(response: HttpResponseBase) -> bool:
    return str(response.get("Content-Type", "")).split(";")[0].strip().endswith("json")


class ApiErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if _declared_length(request) > max_body_bytes():
            return JsonResponse({"message": too_large_message(), "errors": {}}, status=413)
        response = self.get_response(request)
        code = response.status_code
        if code < 400 or _is_json(response) or response.streaming or not isinstance(response, HttpResponse):
            return response
        if code >= 500 and settings.DEBUG:
            return response
        try:
            phrase = HTTPStatus(code).phrase + "."
        except ValueError:
            phrase = "Error."
        response.content = json.dumps({"message": MESSAGES.get(code, phrase), "errors": {}}).encode()
        response["Content-Type"] = "application/json"
        return response
