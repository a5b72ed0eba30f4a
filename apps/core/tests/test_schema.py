"""The OpenAPI schema renders, and the foundation's endpoints add no warnings to it."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

FOUNDATION = re.compile(r"apps/(accounts|shifts|teams|core)/")


def test_the_schema_endpoint_renders_the_foundation_paths() -> None:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    body = response.content.decode()
    for path in ["/api/v1/shifts/", "/api/v1/shifts/{shift_id}/", "/api/v1/teams/on-duty/", "/api/v1/me/"]:
        assert path in body
    for path in [
        "/api/v1/auth/login/",
        "/api/v1/auth/mfa/verify/",
        "/api/v1/auth/mfa/enroll/",
        "/api/v1/auth/password/",
    ]:
        assert path in body


def test_the_foundation_apis_generate_a_valid_schema_without_warnings() -> None:
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    validate_schema(schema)  # type: ignore[no-untyped-call]
    ours = [msg for msg in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if FOUNDATION.search(msg)]
    GENERATOR_STATS.reset()
    assert ours == []
    assert schema["components"]["securitySchemes"]["apiKeyAuth"]["name"] == "Authorization"
    components = schema["components"]["schemas"]
    assert "OnDutyTeam" in components
    # Nested serializers are named after their api class, so every app may have its own "Input".
    assert "LoginApiInputRequest" in components
    assert "Input" not in components
    assert "InputRequest" not in components
