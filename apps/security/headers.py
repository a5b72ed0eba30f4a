"""Security headers on every response (issue 8 item 4): CSP, Referrer-Policy, Permissions-Policy, COOP.

The middleware sits before WhiteNoise, so the built PWA (index.html, /sw.js, assets) that WhiteNoise
answers without reaching Django's views gets the same headers as the API, the admin and /api/docs/.
Django's own SecurityMiddleware (first in the list) adds HSTS, nosniff and the HTTPS redirect.

Scripts are held to ``'self'`` only: no inline script and no eval anywhere (the PWA build, the admin
and the self-hosted Swagger UI have none). Styles allow ``'unsafe-inline'`` because the admin's
change list and drf-spectacular's Swagger page carry small inline ``<style>`` blocks and the admin's
widgets set style attributes; injected CSS cannot run code, injected script can.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

DEFAULT_CSP: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    # 'self' covers same-origin ws:/wss: in CSP Level 3 (checked in Chromium by the e2e test).
    "connect-src": "'self'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "object-src": "'none'",
}

# Only features Chromium knows: an unknown one ("bluetooth") is a console error on every page
# (tests/e2e/test_csp.py reads the console).
DEFAULT_PERMISSIONS_POLICY: dict[str, str] = {
    "camera": "()",
    "microphone": "()",
    # The field app may show the team's position on a map one day; nothing else may ask.
    "geolocation": "(self)",
    "payment": "()",
    "usb": "()",
    "serial": "()",
    "midi": "()",
    "magnetometer": "()",
    "gyroscope": "()",
    "accelerometer": "()",
    "display-capture": "()",
}


def content_security_policy() -> str:
    """The CSP header value: DEFAULT_CSP with ``SECURITY_CSP_EXTRA`` ({directive: sources}) merged in."""
    directives = dict(DEFAULT_CSP)
    extra: dict[str, str] = getattr(settings, "SECURITY_CSP_EXTRA", {}) or {}
    for name, sources in extra.items():
        directives[name] = f"{directives[name]} {sources}".strip() if name in directives else sources
    parts = [f"{name} {value}" for name, value in directives.items()]
    if getattr(settings, "SECURITY_CSP_UPGRADE_INSECURE_REQUESTS", False):
        parts.append("upgrade-insecure-requests")
    report_uri = str(getattr(settings, "SECURITY_CSP_REPORT_URI", "") or "")
    if report_uri:
        parts.append(f"report-uri {report_uri}")
    return "; ".join(parts)


def permissions_policy() -> str:
    return ", ".join(f"{name}={value}" for name, value in DEFAULT_PERMISSIONS_POLICY.items())


class SecurityHeadersMiddleware:
    """Adds the headers unless a view set its own (a view may narrow, never silently drop them).

    Sync and async capable, so it adds no thread hop under ASGI.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        self.csp = content_security_policy()
        self.permissions = permissions_policy()
        self.header_name = (
            "Content-Security-Policy-Report-Only"
            if getattr(settings, "SECURITY_CSP_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._acall(request)
        return self.add_headers(self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        return self.add_headers(await self.get_response(request))

    def add_headers(self, response: HttpResponseBase) -> HttpResponseBase:
        headers = response.headers
        headers.setdefault(self.header_name, self.csp)
        headers.setdefault("Permissions-Policy", self.permissions)
        headers.setdefault("Referrer-Policy", str(getattr(settings, "SECURE_REFERRER_POLICY", "") or "same-origin"))
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        return response
