"""Health check and the single-page app's entry point."""

from __future__ import annotations

import time
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe
from django.views.defaults import page_not_found

from durham_coresponse.celery import app as celery_app


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def _check_channel_layer() -> dict[str, Any]:
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "no channel layer configured"}

    async def roundtrip() -> bool:
        channel = await layer.new_channel("healthz.")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "healthz", "token": token})
        message = await layer.receive(channel)
        return bool(message.get("token") == token)

    return {"ok": async_to_sync(roundtrip)(), "backend": type(layer).__name__}


def _check_broker() -> dict[str, Any]:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": str(conn.transport.driver_type)}


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict[str, Any]] = {}
    for name, check in (
        ("database", _check_database),
        ("channel_layer", _check_channel_layer),
        ("broker", _check_broker),
    ):
        started = time.perf_counter()
        try:
            checks[name] = check()
        except Exception as exc:  # a health check reports failures, it does not raise them
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        checks[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    healthy = all(c.get("ok") for c in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "embedded": settings.EMBEDDED, "checks": checks},
        status=200 if healthy else 503,
    )


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


def permission_denied_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponseBase:
    """403 outside DRF (the admin, plain Django views): audited, then Django's usual page."""
    from django.views.defaults import permission_denied

    from apps.security.audit import record_denial

    record_denial(request, reason="permission")
    return permission_denied(request, exception or Exception("Forbidden"))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponseBase:
    """A CSRF failure on a Django form (the admin): audited, then Django's usual page."""
    from django.views.csrf import csrf_failure as default_csrf_failure

    from apps.security.audit import record_denial

    record_denial(request, reason="csrf")
    return default_csrf_failure(request, reason=reason)
