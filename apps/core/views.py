"""The single-page app's entry point and the API's JSON 404."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe
from django.views.defaults import page_not_found


@require_safe
def spa_index(request: HttpRequest) -> HttpResponseBase:
    index = settings.FRONTEND_DIST / "index.html"
    if not index.is_file():
        return HttpResponse(
            "<!doctype html><title>Co-Response</title><h1>Co-Response</h1>"
            "<p>The field app is not built yet: run <code>make run</code> (or <code>make frontend</code>)."
            ' The <a href="/admin/">admin</a> and the <a href="/api/docs/">API docs</a> work without it.</p>',
            status=503,
        )
    # A plain response: index.html is small, and FileResponse streams synchronously under ASGI.
    response = HttpResponse(index.read_bytes(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponseBase:
    """404 for a URL no route matches: the API's JSON error shape under /api/, Django's page elsewhere.

    An API client (the PWA's outbox, the CAD) reads every error as JSON, also for a malformed id in
    the path (``/api/v1/incidents/abc/``), which no route matches.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"message": "Not found.", "errors": {}}, status=404)
    return page_not_found(request, exception or Exception("Not found"))
