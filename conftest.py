"""Shared fixtures: a cast of named personas, and the rule that a missing service skips a test
(with the reason) unless REQUIRE_SERVICES=1, where it fails instead."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def _missing(item: pytest.Item) -> str | None:
    if item.get_closest_marker("postgres") and not settings.IS_POSTGRES:
        return "needs PostgreSQL: set DATABASE_URL=postgres://... (bash .ci/run does)"
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0 (bash .ci/run does)"
    if item.get_closest_marker("e2e") and not CHROMIUM:
        return "needs Debian's chromium (apt-get install chromium; .ci/run installs it)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A transactional test ends with a flush, which also deletes what migrations created (the role
    # groups and their permissions, code tables). Restore that data at the start of every
    # transactional test instead of trusting each test to ask for it.
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(
                pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}), append=False
            )


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = _missing(item)
    if reason:
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)


# --- personas ---------------------------------------------------------------------------------------


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    from apps.accounts.models import User
    from apps.accounts.services import user_set_roles

    def make(username: str, *roles: str, first: str = "", last: str = "", password: str = "pw-for-tests-1") -> User:
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=first or username.title(),
            last_name=last or "Test",
        )
        user_set_roles(user=user, roles=roles)
        return User.objects.get(pk=user.pk)

    return make


@pytest.fixture
def team_a(db: Any) -> Any:
    from apps.teams.models import Team

    return Team.objects.create(call_sign="CR-A", name="Team A")


@pytest.fixture
def team_b(db: Any) -> Any:
    from apps.teams.models import Team

    return Team.objects.create(call_sign="CR-B", name="Team B")


@pytest.fixture
def clinician_a(make_user: Callable[..., Any]) -> Any:
    return make_user("clinician_a", "clinician", first="Claire")


@pytest.fixture
def officer_a(make_user: Callable[..., Any]) -> Any:
    return make_user("officer_a", "officer", first="Omar")


@pytest.fixture
def clinician_b(make_user: Callable[..., Any]) -> Any:
    return make_user("clinician_b", "clinician", first="Chris")


@pytest.fixture
def officer_b(make_user: Callable[..., Any]) -> Any:
    return make_user("officer_b", "officer", first="Olivia")


@pytest.fixture
def dispatcher(make_user: Callable[..., Any]) -> Any:
    return make_user("dispatcher", "dispatcher", first="Dana")


@pytest.fixture
def supervisor(make_user: Callable[..., Any]) -> Any:
    return make_user("supervisor", "supervisor", first="Sofia")


@pytest.fixture
def analyst(make_user: Callable[..., Any]) -> Any:
    return make_user("analyst", "analyst", first="Ari")


@pytest.fixture
def on_shift_a(team_a: Any, clinician_a: Any, officer_a: Any) -> Any:
    """Team A on duty from an hour ago for ten hours."""
    from apps.shifts.services import MemberSpec, shift_create

    now = timezone.now()
    return shift_create(
        team=team_a,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=9),
        members=[MemberSpec(clinician_a, "clinician"), MemberSpec(officer_a, "officer")],
    )


@pytest.fixture
def on_shift_b(team_b: Any, clinician_b: Any, officer_b: Any) -> Any:
    from apps.shifts.services import MemberSpec, shift_create

    now = timezone.now()
    return shift_create(
        team=team_b,
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=6),
        members=[MemberSpec(clinician_b, "clinician"), MemberSpec(officer_b, "officer")],
    )


@pytest.fixture
def api() -> Callable[[Any], APIClient]:
    """``api(user)``: a client signed in as ``user`` (session auth, CSRF checks on)."""

    def make(user: Any | None = None) -> APIClient:
        client = APIClient(enforce_csrf_checks=True)
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def mfa_login() -> Callable[[Any, Any], Any]:
    """``mfa_login(client, user)``: ``client.force_login(user)`` with a verified second factor (the
    admin site requires it); see apps.security.testing.mfa_force_login."""
    from apps.security.testing import mfa_force_login

    return mfa_force_login


@pytest.fixture
def captured_events(django_capture_on_commit_callbacks: Any) -> Iterator[Any]:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        yield callbacks


# --- event payloads match their declared schemas (apps.realtime.registry) ----------------------------


@pytest.fixture(scope="session", autouse=True)
def test_event_type() -> Iterator[str]:
    """``test.event``: a type for tests of the delivery engine itself (any payload). Never in the app."""
    from apps.realtime import registry

    event_type = registry.EventType(
        "test.event", "Tests of the delivery engine: any payload.", registry.obj(extra=True)
    )
    registry.register(event_type)
    yield event_type.name
    registry.registry.unregister(event_type.name)


@pytest.fixture(autouse=True)
def event_schema_problems() -> Iterator[list[str]]:
    """Every payload ``event_emit`` stores anywhere in the suite is validated against its type's schema
    (as Zulip checks its events): a mismatch raises inside the emit, and is reported again when the
    test ends, in case the code under test swallowed the exception. A test that provokes one on
    purpose asserts on this list and clears it."""
    from apps.realtime import registry

    problems: list[str] = []

    def check(type: str, payload: Any) -> None:
        if registry.get(type) is None:
            return  # event_emit itself refuses undeclared types (REALTIME_EVENTS_STRICT)
        errors = registry.validate(type, payload)
        if errors:
            problem = f"{type}: " + "; ".join(errors)
            problems.append(problem)
            raise registry.InvalidPayload(problem)

    with registry.checking(check):
        yield problems
    assert not problems, "event payloads that do not match their schema:\n" + "\n".join(problems)
