"""Every response carries the security headers; every HTML page carries the CSP (no inline script)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from apps.security.headers import content_security_policy

pytestmark = pytest.mark.django_db

REQUIRED_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
    "connect-src": "'self'",
}


def parse_csp(value: str) -> dict[str, str]:
    out = {}
    for part in value.split(";"):
        name, _, sources = part.strip().partition(" ")
        if name:
            out[name] = sources.strip()
    return out


def assert_strict_csp(response: Any, where: str) -> None:
    header = response.get("Content-Security-Policy")
    assert header, f"{where}: no Content-Security-Policy"
    csp = parse_csp(header)
    for name, sources in REQUIRED_DIRECTIVES.items():
        assert csp.get(name) == sources, f"{where}: {name} is {csp.get(name)!r}"
    assert "unsafe-inline" not in csp["script-src"] and "unsafe-eval" not in csp["script-src"]


def _static_paths(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    """Every URL in the URL conf that needs no argument (discovered, not hand-listed)."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            sub = str(entry.pattern)
            if "<" in sub or "(?P" in sub:
                continue
            yield from _static_paths(entry.url_patterns, prefix + sub.lstrip("^").rstrip("$"))
        elif isinstance(entry, URLPattern):
            route = str(entry.pattern)
            if "<" in route or "(" in route or "[" in route:
                continue
            yield "/" + prefix + route.lstrip("^").rstrip("$")


def discovered_paths() -> list[str]:
    paths = sorted(set(_static_paths(get_resolver().url_patterns)))
    return [p for p in paths if not re.search(r"[\\*+?]", p)]


HTML_PAGES = [
    "/",  # the PWA's index.html (WhiteNoise or the SPA view)
    "/team",  # an SPA route
    "/dispatch/board",  # another SPA route (unknown ones fall back to index.html too)
    "/admin/login/",
    "/admin/",  # redirects to the login page
    "/api/docs/",
    "/api/v1/no-such-endpoint/",  # Django's 404 page
    "/admin/no-such-page/",
    "/static/no-such-file.css",
]


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_carries_the_strict_csp(path: str) -> None:
    response = Client().get(path)
    assert_strict_csp(response, path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=(self)" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_every_html_response_of_the_url_conf_carries_the_csp(signed_in: bool, make_user: Callable[..., Any]) -> None:
    client = Client()
    if signed_in:
        client.force_login(make_user("boss", "admin", "supervisor"))
    html_seen = 0
    for path in discovered_paths():
        response = client.get(path)
        assert response.get("Content-Security-Policy"), f"{path} ({response.status_code}) has no CSP"
        if "text/html" in response.get("Content-Type", ""):
            html_seen += 1
            assert_strict_csp(response, path)
    assert html_seen >= 3  # the walk really reached HTML pages (admin, docs, the SPA)


def test_the_pwa_index_and_service_worker_served_by_whitenoise_get_the_headers(settings: Any) -> None:
    if not (settings.FRONTEND_DIST / "index.html").is_file():
        pytest.skip("frontend/dist is not built (make frontend)")
    for path in ("/", "/sw.js", "/manifest.webmanifest"):
        response = Client().get(path)
        assert response.status_code == 200, path
        assert_strict_csp(response, path)


def test_the_built_pwa_and_the_api_docs_have_no_inline_script(settings: Any) -> None:
    pages = [Client().get("/api/docs/").content.decode()]
    index = settings.FRONTEND_DIST / "index.html"
    if index.is_file():
        pages.append(index.read_text())
    for html in pages:
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
            assert "src=" in attrs and not body.strip(), f"inline script: {attrs} {body[:80]}"
        assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_swagger_ui_is_self_hosted() -> None:
    html = Client().get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(s.startswith("/") for s in sources), sources  # no CDN
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
    bundle = Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200


def test_api_responses_carry_the_headers_too() -> None:
    response = Client().get("/api/v1/me/")
    assert response.status_code in (401, 403)
    assert response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_extra_csp_sources_are_merged_and_report_only_mode_switches_the_header(settings: Any) -> None:
    settings.SECURITY_CSP_EXTRA = {"img-src": "https://tiles.example"}
    csp = parse_csp(content_security_policy())
    assert csp["img-src"] == "'self' data: blob: https://tiles.example"
    settings.SECURITY_CSP_REPORT_ONLY = True
    response = Client().get("/admin/login/")  # the middleware is rebuilt when settings change
    assert response.get("Content-Security-Policy-Report-Only")
    assert "tiles.example" in response["Content-Security-Policy-Report-Only"]
    assert not response.get("Content-Security-Policy")
