"""The single-page app is served for its routes, never for API, admin or socket paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client, override_settings


def test_an_app_route_serves_the_built_index(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>CR app</title>")
    with override_settings(FRONTEND_DIST=tmp_path):
        response = Client().get("/incidents/42")
    assert response.status_code == 200
    assert b"CR app" in response.content
    assert response["Cache-Control"] == "no-cache"


def test_without_a_build_the_app_route_explains_how_to_build_it(tmp_path: Path) -> None:
    with override_settings(FRONTEND_DIST=tmp_path / "missing"):
        response = Client().get("/")
    assert response.status_code == 503
    assert b"/admin/" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/nope"])
def test_unknown_api_paths_are_404_not_the_app(path: str) -> None:
    assert Client().get(path).status_code == 404
