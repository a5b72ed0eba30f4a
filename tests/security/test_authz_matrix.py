"""The authorization matrix (authz_table.py) against the app: complete, current, and true.

Endpoints are discovered from the URL conf (django.urls.get_resolver) and the OpenAPI schema, never
from a hand-kept list: a new endpoint without a row fails test_every_endpoint_has_exactly_one_row, a
row for a removed endpoint fails it too. Then every row is sent as every actor with the ids of a
seeded world (each request rolled back) and must answer the exact status of the table.

AUTHZ_PRINT=1 prints the statuses the app gives, row by row (to review a new row's expectations).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from drf_spectacular.generators import SchemaGenerator
from rest_framework.views import APIView

from .authz_table import ADMIN_MODELS, CROSS_TEAM, ROWS, STAFF, Row
from .conftest import ALL_ACTORS, ANON, CAD, CSRF_TOKEN, World, actor_credentials, rolled_back

pytestmark = pytest.mark.django_db

SKIPPED_METHODS = {"options", "head", "trace"}  # answered by the framework for every view alike
_CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
_GROUP = re.compile(r"\(\?P<([^>]+)>[^)]*\)")


# --- discovery --------------------------------------------------------------------------------------


def _template(pattern: Any, name: str | None) -> str:
    if isinstance(pattern, RoutePattern):
        return _CONVERTER.sub(r"{\1}", str(pattern))
    assert isinstance(pattern, RegexPattern)
    if name == "spa":
        return "{spa}"
    regex = str(pattern)
    template = _GROUP.sub(r"{\1}", regex).removeprefix("^").removesuffix("$").replace("\\", "")
    assert not re.search(r"[()\[\]*+?|]", template), f"name a template for the regex route {regex!r}"
    return template


def _walk(patterns: list[Any], prefix: str = "/") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + _template(entry.pattern, None))
        else:
            yield prefix + _template(entry.pattern, entry.name), entry


def _admin_model_prefixes() -> dict[str, str]:
    return {f"/admin/{m._meta.app_label}/{m._meta.model_name}/": m._meta.label_lower for m in admin.site._registry}


def urlconf_endpoints() -> set[tuple[str, str]]:
    """(METHOD, template) for every route; admin model pages are ADMIN_MODELS' business."""
    model_prefixes = _admin_model_prefixes()
    found: set[tuple[str, str]] = set()
    for template, entry in _walk(get_resolver().url_patterns):
        if any(template.startswith(prefix) for prefix in model_prefixes):
            continue
        view_class = getattr(entry.callback, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            methods = [m for m in view_class.http_method_names if m not in SKIPPED_METHODS and hasattr(view_class, m)]
        else:
            methods = ["get"]  # plain Django views (health, SPA, calendar, admin site pages)
        found |= {(m.upper(), template) for m in methods}
    return found


def schema_endpoints() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method not in {"parameters", "summary", "description", "servers"}
    }


def test_every_endpoint_has_exactly_one_row() -> None:
    discovered = urlconf_endpoints() | schema_endpoints()
    missing = sorted(discovered - set(ROWS))
    stale = sorted(set(ROWS) - discovered)
    assert not missing, f"endpoints without a row in tests/security/authz_table.py: {missing}"
    assert not stale, f"rows for endpoints that no longer exist: {stale}"
    # The schema and the URL conf agree about the API (no undocumented API route, no phantom one).
    api_routes = {e for e in urlconf_endpoints() if e[1].startswith("/api/v1/")}
    assert api_routes == {e for e in schema_endpoints() if e[1].startswith("/api/v1/")}


def test_a_new_endpoint_without_a_row_is_noticed(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.security.extra_urls"
    new = {("GET", "/api/v1/brand-new/{thing_id}/"), ("POST", "/api/v1/brand-new/{thing_id}/")}
    assert (urlconf_endpoints() | schema_endpoints()) - set(ROWS) == new


def test_a_model_registered_in_the_admin_later_is_noticed() -> None:
    from django.contrib.sessions.models import Session

    admin.site.register(Session)
    try:
        assert "sessions.session" in set(_admin_model_prefixes().values()) - set(ADMIN_MODELS)
        assert "/admin/sessions/session/" in _admin_rows()
    finally:
        admin.site.unregister(Session)


def test_every_admin_model_has_a_rule() -> None:
    registered = set(_admin_model_prefixes().values())
    assert not sorted(registered - set(ADMIN_MODELS)), "admin models without a rule in ADMIN_MODELS"
    assert not sorted(set(ADMIN_MODELS) - registered), "ADMIN_MODELS names models no longer registered"


# --- exercising the rows ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def built_pwa(settings: Any, tmp_path: Any) -> None:
    """The SPA shell as `make run` builds it (without a build the catch-all rightly answers 503)."""
    (tmp_path / "index.html").write_text("<!doctype html><title>Co-Response</title>")
    settings.FRONTEND_DIST = tmp_path


def _url(world: World, template: str, row: Row) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in world.ids:
            return str(world.ids[name][row.ids.get(name, 0)])
        fixed: dict[str, str] = {
            "token": world.users["officer"].calendar_token,
            "spa": "dispatch",
            "app_label": "clinical",
            "content_type_id": str(ContentType.objects.get_for_model(type(world.users["officer"])).pk),
            "object_id": "999999",
            "url": "no-such-page/",
        }
        return fixed[name]

    return re.sub(r"\{([^}]+)\}", value, template)


def _send(world: World, actor: str, method: str, url: str, body: Any, query: dict[str, str]) -> Any:
    headers, cookies = actor_credentials(world, actor)
    client = Client()  # a fresh jar: a sign-out or new sign-in in one request must not leak into the next
    for name, value in cookies.items():
        client.cookies[name] = value
    headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    if method == "GET":
        return client.get(url, query, headers=headers)
    data = json.dumps(body if body is not None else {})
    return client.generic(method, url, data, content_type="application/json", headers=headers)


def _admin_rows() -> dict[str, dict[str, int]]:
    """URL → expected status per actor for every registered model's changelist and add page."""
    rows: dict[str, dict[str, int]] = {}
    for model in admin.site._registry:
        label = model._meta.label_lower
        viewers, adders = ADMIN_MODELS.get(label, (frozenset(), frozenset()))
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for url, allowed in ((base, viewers), (base + "add/", adders)):
            expected = {actor: 302 for actor in ALL_ACTORS}
            expected.update({role: 200 if role in allowed else 403 for role in STAFF})
            rows[url] = expected
    return rows


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_every_row_answers_each_actor_exactly(world: World, actor: str) -> None:
    mismatches: list[str] = []
    seen: list[str] = []
    cases = [(key, row, "") for key, row in ROWS.items()] + [(key, row, " (team B)") for key, row in CROSS_TEAM.items()]
    for (method, template), row, label in sorted(cases, key=lambda item: (item[0][1], item[0][0], item[2])):
        url = _url(world, template, row)
        template += label
        with rolled_back():
            response = _send(world, actor, method, url, row.body(world) if row.body else None, row.query)
        got, want = response.status_code, row.expect[actor]
        seen.append(f"{method:6} {template:60} {got}")
        if got != want:
            mismatches.append(f"{method} {template} as {actor}: expected {want}, got {got} {response.content[:200]!r}")
        if actor == "officer" and row.officer_never:
            assert row.officer_never not in response.content.decode(), (method, template)
        if url.startswith("/api/v1/") and got >= 400:
            body = response.json()
            assert isinstance(body.get("message"), str) and isinstance(body.get("errors"), dict), (url, body)
    for url, expected in sorted(_admin_rows().items()):
        with rolled_back():
            response = _send(world, actor, "GET", url, None, {})
        seen.append(f"GET    {url:60} {response.status_code}")
        if response.status_code != expected[actor]:
            mismatches.append(f"GET {url} as {actor}: expected {expected[actor]}, got {response.status_code}")
    if os.environ.get("AUTHZ_PRINT") == "1":
        print(f"\n--- {actor}\n" + "\n".join(seen))
    assert not mismatches, f"{len(mismatches)} cells differ from authz_table.py:\n" + "\n".join(mismatches)


def test_the_table_names_every_actor_in_every_row() -> None:
    for key, row in [*ROWS.items(), *CROSS_TEAM.items()]:
        assert set(row.expect) == set(ALL_ACTORS), key
    assert set(CROSS_TEAM) <= set(ROWS)
    assert ANON in ALL_ACTORS and CAD in ALL_ACTORS
    assert CSRF_TOKEN  # the matrix sends the CSRF token like the PWA: refusals are authorization, not CSRF
