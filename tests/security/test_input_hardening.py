"""Regression tests for issue 16's input findings: each request here was answered wrongly before
(a 500, an HTML page, a 201 storing bad data). Grouped by finding; docs/security.md, "Input".
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from rest_framework import exceptions
from rest_framework.test import APIClient

from apps.core.parsers import JSONParser, RequestTooLarge, json_depth

pytestmark = pytest.mark.django_db

EIDO_EXAMPLE = Path(settings.BASE_DIR) / "apps" / "incidents" / "tests" / "data" / "eido_incident.json"
CAD_URL = "/api/v1/cad/incidents"


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def _key() -> dict[str, Any]:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


@pytest.fixture
def cad_client(make_user: Any) -> APIClient:
    from apps.accounts.models import ApiKey

    _k, raw = ApiKey.generate(name="Hardening CAD", user=make_user("cad-hardening"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def _writers(api: Any, dispatcher: Any, clinician_a: Any, cad_client: APIClient) -> list[tuple[APIClient, str]]:
    """The three writes the finding named: incident create, person create, CAD intake."""
    return [
        (api(dispatcher), "/api/v1/incidents/"),
        (api(clinician_a), "/api/v1/clinical/persons/"),
        (cad_client, CAD_URL),
    ]


def _error_shape(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response.content[:200])
    body: dict[str, Any] = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    return body


# --- a body nested 1,000 levels deep was a 500 (RecursionError) ----------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize("levels", [33, 900, 1000, 100_000])
def test_deeply_nested_json_is_a_400_in_the_error_shape_on_every_named_write(
    api: Any, dispatcher: Any, clinician_a: Any, cad_client: APIClient, settings: Any, debug: bool, levels: int
) -> None:
    settings.DEBUG = debug
    for client, url in _writers(api, dispatcher, clinician_a, cad_client):
        client.raise_request_exception = False
        for body in (deep(levels), b'{"a": ' + deep(levels) + b"}"):
            response = client.post(url, data=body, content_type="application/json", **_key())
            assert response.status_code == 400, (url, levels, response.status_code)
            assert "nested too deeply" in _error_shape(response)["message"]


def test_nesting_up_to_the_limit_is_parsed_and_one_more_level_is_refused() -> None:
    limit = settings.API_JSON_MAX_DEPTH
    assert JSONParser().parse(io.BytesIO(deep(limit))) is not None
    with pytest.raises(exceptions.ParseError):
        JSONParser().parse(io.BytesIO(deep(limit + 1)))
    assert json_depth(json.loads(EIDO_EXAMPLE.read_text())) < limit  # a real CAD payload is far inside it


# --- a 12 MB body was an HTML 400 ----------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_a_12_mb_body_is_a_json_413_on_every_named_write(
    api: Any, dispatcher: Any, clinician_a: Any, cad_client: APIClient, settings: Any, debug: bool
) -> None:
    settings.DEBUG = debug
    body = b'{"address": "' + b"x" * 12_000_000 + b'"}'
    for client, url in _writers(api, dispatcher, clinician_a, cad_client):
        client.raise_request_exception = False
        response = client.post(url, data=body, content_type="application/json", **_key())
        assert response.status_code == 413, (url, response.status_code)
        assert "too large" in _error_shape(response)["message"]


def test_a_body_without_a_length_is_bounded_by_the_parser_too() -> None:
    """A chunked body has no Content-Length for the middleware to check: the parser stops reading."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    exact = b'"' + b"x" * (limit - 2) + b'"'
    assert len(JSONParser().parse(io.BytesIO(exact))) == limit - 2
    with pytest.raises(RequestTooLarge):
        JSONParser().parse(io.BytesIO(exact + b" "))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"address": "\xff\xfe"}', "not valid UTF-8"),
        (b'{"address": "\xed\xa0\x80"}', "not valid UTF-8"),  # a UTF-8-encoded lone surrogate
        (b'{"priority": NaN}', "not valid JSON"),
        (b'{"priority": Infinity}', "not valid JSON"),
        (b'{"address": ', "JSON parse error"),
    ],
)
def test_bodies_that_are_not_json_are_400_in_the_error_shape(
    api: Any, dispatcher: Any, body: bytes, message: str
) -> None:
    response = api(dispatcher).post("/api/v1/incidents/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert message in _error_shape(response)["message"]


# --- invalid ids were an HTML 404 page -------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/incidents/-1/",
        "/api/v1/incidents/abc/",
        "/api/v1/incidents/99999999999999999999999/",
        "/api/v1/clinical/encounters/not-a-uuid/",
        "/api/v1/clinical/encounters/5/",
        "/api/v1/clinical/notes/%00/",
        "/api/v1/no-such-endpoint/",
        "/api/v2/incidents/",
        "/api/",
    ],
)
def test_every_unmatched_or_invalid_id_under_api_is_a_json_404(
    api: Any, dispatcher: Any, settings: Any, debug: bool, path: str
) -> None:
    settings.DEBUG = debug
    client = api(dispatcher)
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert "not found" in _error_shape(response)["message"].lower()
    for method in ("post", "patch", "delete"):  # a route that exists for GET only may answer 405
        response = getattr(client, method)(path, data={}, format="json")
        assert response.status_code in {404, 405}, (method, path, response.status_code)
        _error_shape(response)


def test_pages_outside_the_api_keep_their_html_404(client: Any) -> None:
    response = client.get("/admin/no-such-page/")
    assert response.status_code in {302, 404}
    assert not response["Content-Type"].startswith("application/json")
