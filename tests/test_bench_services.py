"""make bench on a fresh machine: the PostgreSQL role is created when missing, and the run says which
services it uses (the environment's, or the local ones)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import local_services

pytestmark = pytest.mark.postgres


def superuser_can_connect() -> bool:
    try:
        with psycopg.connect(host=local_services.HOST, port=local_services.PORT, user="postgres", dbname="postgres"):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def fresh_role() -> Iterator[str]:
    if not (settings.IS_POSTGRES and superuser_can_connect()):
        pytest.skip("needs the local PostgreSQL's postgres superuser (as .ci/run uses)")
    role = f"bench_probe_{uuid.uuid4().hex[:8]}"
    yield role
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{role}"')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_a_missing_role_is_created_once_and_can_create_its_database(fresh_role: str) -> None:
    assert local_services.ensure_role(fresh_role, "probe-pw") is True
    assert local_services.ensure_role(fresh_role, "probe-pw") is False
    with psycopg.connect(
        host="127.0.0.1", user=fresh_role, password="probe-pw", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{fresh_role}"')


def test_a_url_from_the_environment_is_used_as_it_is_and_said_without_its_password() -> None:
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL)")
    url = "postgres://someone:s3cret-pw@db.example.org:5432/theirs"
    setup = local_services.prepare({"DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL})
    text = setup.describe()
    assert "postgres://someone:***@db.example.org:5432/theirs (DATABASE_URL from the environment" in text
    assert "s3cret-pw" not in text
    assert f"{settings.REDIS_URL} (REDIS_URL from the environment)" in text
    assert setup.done == []  # nothing created or started for a given URL


def test_without_a_url_the_local_services_are_used_and_named() -> None:
    if not superuser_can_connect():
        pytest.skip("needs the local PostgreSQL's postgres superuser")
    text = local_services.prepare({}).describe()
    assert "local PostgreSQL 127.0.0.1:5432 as role coresponse (no DATABASE_URL)" in text
    assert "redis://127.0.0.1:6379/14 (no REDIS_URL)" in text
