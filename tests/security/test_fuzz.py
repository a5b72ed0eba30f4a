"""Fuzz every operation of the app's own OpenAPI schema as every role, anonymous and a CAD client.

schemathesis generates requests (valid and invalid) from /api/schema/ as the app serves it, sends
them in-process through the WSGI stack (middleware, CSRF, real sessions, the pytest-django
database), and checks each response: no 5xx, a documented status code and content type, a body
that matches the documented schema, documented headers. Path ids are often drawn from a seeded
world, so requests reach real objects instead of only 404s.

Each request's writes are rolled back (a savepoint), so every example meets the same world.
FUZZ_MAX_EXAMPLES (default 6) bounds the examples per operation and actor; FUZZ_SEED picks a
different deterministic run; FUZZ_SHRINK=1 shrinks a failure to a minimal example (slower).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import ALL_ACTORS, World, actor_credentials, rolled_back

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "6"))
SEED = os.environ.get("FUZZ_SEED")
SHRINK = os.environ.get("FUZZ_SHRINK") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

pytestmark = pytest.mark.django_db


@cache
def _schema() -> Any:
    # The schema is served by the app itself: a new endpoint is fuzzed the day it is added.
    config = schemathesis.Config()
    config.projects.default.generation.update(with_security_parameters=False)
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)


@pytest.fixture
def keep_the_test_connection(world: World) -> Iterator[None]:
    """schemathesis calls the real WSGI handler, whose request signals close "old" connections; on
    PostgreSQL that closes the test transaction's connection mid-test. Django's own test client
    disconnects the same handler for the same reason (and connects it again after each of its
    requests: hence after the world is built)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _operations() -> list[Any]:
    return [result.ok() for result in _schema().get_all_operations()]


def _real_ids(world: World, operation: Any) -> Callable[[Any, Any], Any]:
    """A strategy step that replaces generated path ids by ids of objects that exist."""
    names = [p.name for p in operation.path_parameters]
    choices = {name: world.ids[name] for name in names if name in world.ids}

    def pick(data: Any, case: Any) -> Any:
        if choices and data.draw(st.integers(0, 3), label="real_ids") > 0:
            for name, ids in choices.items():
                case.path_parameters[name] = data.draw(st.sampled_from(ids), label=name)
        return case

    return pick


def _fuzz_operation(world: World, actor: str, operation: Any, tally: Counter[str]) -> str | None:
    headers, cookies = actor_credentials(world, actor)
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    pick = _real_ids(world, operation)
    phases = [Phase.explicit, Phase.generate, *([Phase.shrink] if SHRINK else [])]

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(data=st.data())
    def run(data: Any) -> None:  # hypothesis supplies ``data``
        case = pick(data, data.draw(strategy, label="case"))
        with rolled_back():
            response = case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)
        tally[f"{response.status_code // 100}xx"] += 1
        tally[str(response.status_code)] += 1

    if SEED is not None:
        run = hypothesis.seed(int(SEED))(run)
    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # collected: one run reports every failed operation
        return f"{operation.label} as {actor}:\n{exc}"
    return None


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_every_operation_survives_fuzzing(world: World, actor: str, keep_the_test_connection: None) -> None:
    operations = _operations()
    assert len(operations) > 50, "the schema lost its operations"
    tally: Counter[str] = Counter()
    failures = [f for op in operations if (f := _fuzz_operation(world, actor, op, tally))]
    print(f"fuzz {actor}: {len(operations)} operations, {sum(tally[k] for k in ('2xx', '4xx', '5xx'))} requests,",
          dict(sorted(tally.items())))  # fmt: skip
    assert not failures, f"{len(failures)} of {len(operations)} operations failed:\n\n" + "\n\n".join(failures)
    # The world is real enough that every signed-in actor gets somewhere (not only 4xx).
    assert tally["2xx"] > 0
