"""The authorization matrix (authz_table.py) against the app: complete, current, and true.

Endpoints are discovered from the URL conf (django.urls.get_resolver) and the OpenAPI schema, never
from a hand-kept list: a new endpoint without a row fails test_every_endpoint_has_exactly_one_row, a
row for a removed endpoint fails it too. Then every row is sent as every actor with the ids of a
seeded world (each request rolled back) and must answer the exact status of the table.

AUTHZ_PRINT=1 prints the statuses the app gives, row by row (to review a new row's expectations).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from drf_spectacular.generators import SchemaGenerator
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from .authz_table import ADMIN_MODELS, APPEND_ONLY, CROSS_TEAM, HEAD_DIFFERS, ROWS, STAFF, AdminModel, Row
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


# The pages every ModelAdmin has (ADMIN_MODELS' rules); a ModelAdmin's own extra pages need rows.
STANDARD_ADMIN_PAGES = {
    "",
    "add/",
    "{object_id}/",
    "{object_id}/change/",
    "{object_id}/history/",
    "{object_id}/delete/",
}
PROBED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _is_standard_admin_page(template: str, model_prefixes: dict[str, str]) -> bool:
    return any(template.startswith(p) and template.removeprefix(p) in STANDARD_ADMIN_PAGES for p in model_prefixes)


def _view_methods(entry: URLPattern) -> tuple[str, frozenset[str] | None]:
    """("api", methods) for a DRF view, ("plain", methods) for a Django view that restricts its methods
    (``require_http_methods`` and friends, class-based views), ("plain", None) for one that takes any."""
    view_class = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
    if isinstance(view_class, type) and issubclass(view_class, APIView):
        names = {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
        if entry.callback.initkwargs.get("metadata_class", view_class.metadata_class) is None:  # type: ignore[attr-defined]
            names.discard("OPTIONS")  # DRF answers OPTIONS only with a metadata class
        return "api", frozenset(names | ({"HEAD"} if "GET" in names else set()))
    if isinstance(view_class, type):
        names = {m.upper() for m in getattr(view_class, "http_method_names", ()) if hasattr(view_class, m)}
        return "plain", frozenset(names | ({"HEAD"} if "GET" in names else set()))
    allowed = inspect.getclosurevars(entry.callback).nonlocals.get("request_method_list")
    return "plain", frozenset(allowed) if allowed is not None else None


def urlconf_views() -> dict[str, tuple[str, frozenset[str] | None]]:
    """template → (kind, the methods it answers) for every route but the standard admin model pages."""
    model_prefixes = _admin_model_prefixes()
    return {
        template: _view_methods(entry)
        for template, entry in _walk(get_resolver().url_patterns)
        if not _is_standard_admin_page(template, model_prefixes)
    }


def urlconf_endpoints() -> set[tuple[str, str]]:
    """(METHOD, template) for every route; the standard admin model pages are ADMIN_MODELS' business."""
    found: set[tuple[str, str]] = set()
    for template, (kind, methods) in urlconf_views().items():
        if kind == "api" and methods is not None:
            found |= {(m, template) for m in methods if m.lower() not in SKIPPED_METHODS}
        else:
            found.add(("GET", template))  # plain Django views (health, SPA, calendar, admin site pages)
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
            "id": str(world.users["officer"].pk),
            "notification_token": "00000000-0000-4000-8000-000000000001",
        }
        return fixed[name]

    return re.sub(r"\{([^}]+)\}", value, template)


Credentials = tuple[dict[str, str], dict[str, str]]


def _send(
    world: World,
    actor: str,
    method: str,
    url: str,
    body: Any,
    query: dict[str, str],
    creds: Credentials | None = None,
    form: dict[str, Any] | None = None,
) -> Any:
    """One request as ``actor``: a new sign-in unless ``creds`` (a session made once, outside the
    request's savepoint: the request's own writes, a sign-out included, are rolled back)."""
    headers, cookies = creds or actor_credentials(world, actor)
    client = Client()  # a fresh jar: a sign-out or new sign-in in one request must not leak into the next
    for name, value in cookies.items():
        client.cookies[name] = value
    headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    if method in {"GET", "HEAD"}:
        return client.generic(method, url + ("?" + urlencode(query) if query else ""), headers=headers)
    if form is not None:
        return client.post(url, form, headers=headers)
    data = json.dumps(body if body is not None else {})
    return client.generic(method, url, data, content_type="application/json", headers=headers)


def _staff_only(allowed: frozenset[str], refused: int = 403) -> dict[str, int]:
    """Staff roles in ``allowed`` 200, other staff roles ``refused``; everyone else to the admin sign-in."""
    expected = {actor: 302 for actor in ALL_ACTORS}
    expected.update({role: 200 if role in allowed else refused for role in STAFF})
    return expected


def _admin_rows() -> dict[str, dict[str, int]]:
    """URL → expected status per actor for every registered model's changelist and add page."""
    rows: dict[str, dict[str, int]] = {}
    for model in admin.site._registry:
        rule = ADMIN_MODELS.get(model._meta.label_lower, AdminModel(obj=lambda w: None))
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        rows[base] = _staff_only(rule.view)
        rows[base + "add/"] = _staff_only(rule.add)
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


# --- the admin's object pages -----------------------------------------------------------------------


def _object_pages(model: Any, pk: Any) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{quote(str(pk))}/"


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_admin_object_pages_answer_each_actor_exactly(world: World, actor: str) -> None:
    """For one existing object of every registered model: its page, history and delete page (GET and
    HEAD), the bare object URL, saving the page and confirming the delete, as ADMIN_MODELS says."""
    creds = actor_credentials(world, actor)
    objects = {model: ADMIN_MODELS[model._meta.label_lower].obj(world) for model in admin.site._registry}
    mismatches: list[str] = []
    seen: list[str] = []

    def check(method: str, url: str, want: int, form: dict[str, Any] | None = None) -> Any:
        with rolled_back():
            response = _send(world, actor, method, url, None, {}, creds=creds, form=form)
            model = next(m for m in objects if url.startswith(_object_pages(m, objects[m].pk)))
            gone = not model._default_manager.filter(pk=objects[model].pk).exists()
        got = response.status_code
        seen.append(f"{method:6} {url:60} {got}")
        if got != want and not (method == "POST" and want == 302 and got == 200):
            mismatches.append(f"{method} {url} as {actor}: expected {want}, got {got}")
        if method == "HEAD" and response.content:
            mismatches.append(f"HEAD {url} as {actor}: a body")
        # Deleted exactly when the confirmation answers 302 to a role that may delete. A role that may
        # delete meets 200 (and nothing deleted) where related objects are protected or are ones it may
        # not delete; the page says so.
        if gone != (method == "POST" and got == 302 and actor in STAFF):
            mismatches.append(f"{method} {url} as {actor}: {'deleted' if gone else 'not deleted'} ({got})")
        why = (b"protected related objects", b"have permission to delete the following")
        if method == "POST" and got == 200 and not any(text in response.content for text in why):
            mismatches.append(f"POST {url} as {actor}: 200 without saying why nothing was deleted")
        return response

    for model, obj in sorted(objects.items(), key=lambda item: item[0]._meta.label_lower):
        label = model._meta.label_lower
        rule = ADMIN_MODELS[label]
        base = _object_pages(model, obj.pk)
        for method in ("GET", "HEAD"):
            check(method, base + "change/", _staff_only(rule.view)[actor])
            history = _staff_only(rule.view) | {role: 302 for role in rule.not_found}
            check(method, base + "history/", history[actor])
            check(method, base + "delete/", _staff_only(rule.delete)[actor])
        if actor in rule.not_found:  # "no such object" (the policy), back to the admin index
            with rolled_back():
                assert _send(world, actor, "GET", base + "history/", None, {}, creds=creds)["Location"] == "/admin/"
        bare = check("GET", base, 302)
        login_or_page = "/admin/login/" if actor not in STAFF else base + "change/"
        assert bare["Location"].startswith(login_or_page), (base, actor, bare["Location"])
        # Saving the page: refused (403) without the change permission; with it, a form answer (its
        # errors, 200) or saved (302). Confirming the delete: 302 and the row gone only with the delete
        # permission; refused and the row still there otherwise.
        changed = _staff_only(rule.change)[actor]
        with rolled_back():
            got = _send(world, actor, "POST", base + "change/", None, {}, creds=creds, form={}).status_code
        if not (got == changed or (changed == 200 and got == 302)):
            mismatches.append(f"POST {base}change/ as {actor}: expected {changed}, got {got}")
        seen.append(f"POST   {base + 'change/':60} {got}")
        check(
            "POST",
            base + "delete/",
            {**_staff_only(rule.delete), **{r: 302 for r in rule.delete}}[actor],
            {"post": "yes"},
        )
    if os.environ.get("AUTHZ_PRINT") == "1":
        print(f"\n--- {actor} (admin object pages)\n" + "\n".join(seen))
    assert not mismatches, f"{len(mismatches)} admin cells differ from ADMIN_MODELS:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_append_only_audit_trails_cannot_be_changed_or_deleted_in_the_admin(world: World, actor: str) -> None:
    """The security audit and the clinical access log: no page, form, bulk action or role deletes or edits a row."""
    creds = actor_credentials(world, actor)
    for label in sorted(APPEND_ONLY):
        rule = ADMIN_MODELS[label]
        assert not rule.add and not rule.change and not rule.delete, label
        model = next(m for m in admin.site._registry if m._meta.label_lower == label)
        obj = rule.obj(world)
        base = _object_pages(model, obj.pk)
        refused = 403 if actor in STAFF else 302
        before = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
        attempts: list[tuple[str, dict[str, Any]]] = [
            (base + "delete/", {"post": "yes"}),
            (base + "change/", {f.name: "" for f in model._meta.concrete_fields if f.name != "id"}),
            (base.rsplit("/", 2)[0] + "/", {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}),
        ]
        for url, form in attempts:
            with rolled_back():
                response = _send(world, actor, "POST", url, None, {}, creds=creds, form=form)
                row = model._default_manager.filter(pk=obj.pk).first()
                assert row is not None, (label, url, actor, "deleted")
                assert {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields} == before
            if form.get("action") == "delete_selected" and actor in rule.view:  # no such action: the list again
                assert response.status_code in {200, 302}, (label, url, actor, response.status_code)
            else:
                assert response.status_code == refused, (label, url, actor, response.status_code)


# --- other methods: HEAD, OPTIONS, and the methods a view does not answer ---------------------------


def _requires_sign_in(template: str) -> bool:
    """What DRF decides before any handler: do the view's permission classes refuse an anonymous caller?"""
    entry = next(e for t, e in _walk(get_resolver().url_patterns) if t == template)
    view = entry.callback.cls(**entry.callback.initkwargs)  # type: ignore[attr-defined]
    request = Request(APIRequestFactory().options("/"))
    request.user = AnonymousUser()
    view.request, view.args, view.kwargs, view.format_kwarg = request, (), {}, None
    return not all(permission.has_permission(request, view) for permission in view.get_permissions())


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_head_options_and_unsupported_methods(world: World, actor: str) -> None:
    """HEAD: GET's status without a body (HEAD_DIFFERS aside). OPTIONS on every DRF view: the view's
    description (200) or the caller's refusal (401/403), never a 5xx, never a 2xx to an anonymous caller
    where DRF's permission classes require sign-in. A method a view does not answer: 405 from plain
    Django views for everyone; DRF views check the caller first (401/403) or answer 405; never 2xx/5xx."""
    creds = actor_credentials(world, actor)
    views = urlconf_views()
    mismatches: list[str] = []
    seen: list[str] = []

    def check(method: str, template: str, url: str, want: set[int], query: dict[str, str] | None = None) -> Any:
        with rolled_back():
            response = _send(world, actor, method, url, None, query or {}, creds=creds)
        got = response.status_code
        seen.append(f"{method:7} {template:60} {got}")
        if got not in want:
            mismatches.append(f"{method} {template} as {actor}: expected {want}, got {got} {response.content[:150]!r}")
        if method == "HEAD" and response.content:
            mismatches.append(f"HEAD {template} as {actor}: a body")
        return response

    for (method, template), row in sorted(ROWS.items(), key=lambda item: item[0][1]):
        if method == "GET":
            want = HEAD_DIFFERS.get(template, {}).get(actor, row.expect[actor])
            check("HEAD", template, _url(world, template, row), {want}, row.query)
    for url, expected in sorted(_admin_rows().items()):
        check("HEAD", url, url, {expected[actor]})

    for template, (kind, methods) in sorted(views.items()):
        if kind != "api" or not methods or "OPTIONS" not in methods:
            continue
        refused = actor == ANON and _requires_sign_in(template)
        response = check(
            "OPTIONS", template, _url(world, template, Row({})), {401, 403} if refused else {200, 401, 403}
        )
        if response.status_code == 200:
            assert b"name" in response.content, template  # DRF's description of the view (JSON, or YAML)

    for template, (kind, methods) in sorted(views.items()):
        if methods is None:
            continue  # the admin site's pages take any method (their forms); refusals are in the rows
        url = _url(world, template, Row({}))
        for method in PROBED_METHODS:
            if method not in methods and not (method == "HEAD" and template in HEAD_DIFFERS):
                check(method, template, url, {405} if kind == "plain" else {405, 401, 403})
    if os.environ.get("AUTHZ_PRINT") == "1":
        print(f"\n--- {actor} (HEAD, OPTIONS, unsupported methods)\n" + "\n".join(seen))
    assert not mismatches, f"{len(mismatches)} cells differ:\n" + "\n".join(mismatches)
