"""apps.core.idempotency: replay, mismatch, per-user scope, rollback, and the concurrent race."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from apps.core.errors import Invalid
from apps.core.idempotency import idempotent
from apps.core.models import IdempotencyRecord

calls: list[dict[str, Any]] = []


class CounterView(APIView):
    """Appends to ``calls`` (the side effect) and echoes the body; refuses {"fail": true}."""

    @idempotent()
    def post(self, request: Request) -> Response:
        data = dict(request.data)
        if data.get("fail"):
            raise Invalid("no", errors={"fail": ["Refused."]})
        calls.append(data)
        IdempotencyRecord.objects.count()  # touch the database inside the transaction
        return Response({"n": len(calls), "id": uuid.UUID(int=len(calls))}, status=201)


def call(user: Any, body: dict[str, Any], key: str | None) -> Response:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    request = APIRequestFactory().post("/things/", body, format="json", **headers)
    force_authenticate(request, user=user)
    response: Response = CounterView.as_view()(request)
    return response


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()


def test_replay_returns_the_stored_result_and_runs_once(clinician_a: Any) -> None:
    first = call(clinician_a, {"a": 1}, "k1")
    second = call(clinician_a, {"a": 1}, "k1")
    assert first.status_code == second.status_code == 201
    assert first.data == second.data == {"n": 1, "id": str(uuid.UUID(int=1))}
    assert second["Idempotent-Replayed"] == "true"
    assert len(calls) == 1


def test_same_key_different_body_is_422(clinician_a: Any) -> None:
    call(clinician_a, {"a": 1}, "k1")
    res = call(clinician_a, {"a": 2}, "k1")
    assert res.status_code == 422
    assert "Idempotency-Key" in res.data["errors"]
    assert len(calls) == 1


def test_keys_are_scoped_per_user(clinician_a: Any, clinician_b: Any) -> None:
    call(clinician_a, {"a": 1}, "shared")
    res = call(clinician_b, {"a": 1}, "shared")
    assert res.status_code == 201
    assert len(calls) == 2


def test_missing_key_is_400(clinician_a: Any) -> None:
    assert call(clinician_a, {"a": 1}, None).status_code == 400
    assert calls == []


def test_a_refused_write_stores_nothing_so_the_fixed_retry_runs(clinician_a: Any) -> None:
    assert call(clinician_a, {"fail": True}, "k1").status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert call(clinician_a, {"a": 1}, "k1").status_code == 201
    assert len(calls) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_execute_once(clinician_a: Any) -> None:
    """Eight threads, own connections, released together: one runs, the others replay (or 409
    while it is in flight); never two executions."""
    for attempt in range(5):
        calls.clear()
        barrier = threading.Barrier(8)
        results: list[int] = []
        key = f"race-{attempt}"

        def worker(barrier: threading.Barrier = barrier, results: list[int] = results, key: str = key) -> None:
            try:
                barrier.wait()
                results.append(call(clinician_a, {"a": 1}, key).status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(calls) == 1, results
        assert IdempotencyRecord.objects.filter(key=key).count() == 1
        assert set(results) <= {201, 409}


def test_purge_deletes_only_old_completed_records(clinician_a: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from apps.core.idempotency import idempotency_purge

    call(clinician_a, {"a": 1}, "old")
    call(clinician_a, {"a": 2}, "new")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - dt.timedelta(days=8))
    assert idempotency_purge(older_than=dt.timedelta(days=7)) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


class OptionalKeyView(APIView):
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        calls.append(dict(request.data))
        return Response({"n": len(calls)}, status=201)


def call_optional(user: Any, key: str | None) -> Response:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    request = APIRequestFactory().post("/dispatch/", {"a": 1}, format="json", **headers)
    force_authenticate(request, user=user)
    response: Response = OptionalKeyView.as_view()(request)
    return response


def test_an_optional_key_runs_each_request_without_it_and_once_with_it(clinician_a: Any) -> None:
    assert call_optional(clinician_a, None).data == {"n": 1}
    assert call_optional(clinician_a, None).data == {"n": 2}
    assert not IdempotencyRecord.objects.exists()
    assert call_optional(clinician_a, "k").data == {"n": 3}
    replay = call_optional(clinician_a, "k")
    assert replay.data == {"n": 3} and replay["Idempotent-Replayed"] == "true"
    assert len(calls) == 3


def test_the_record_belongs_to_the_signed_in_user(clinician_a: Any) -> None:
    call(clinician_a, {"a": 1}, "mine")
    assert IdempotencyRecord.objects.get(key="mine").user_id == clinician_a.pk


def test_a_required_key_is_documented_in_the_schema_and_an_optional_one_is_not() -> None:
    from django.urls import path
    from drf_spectacular.generators import SchemaGenerator

    patterns = [path("things/", CounterView.as_view()), path("dispatch/", OptionalKeyView.as_view())]
    generator = SchemaGenerator(patterns=patterns)  # type: ignore[no-untyped-call]
    schema = generator.get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    required = schema["paths"]["/things/"]["post"].get("parameters", [])
    assert [(p["in"], p["name"], p["required"]) for p in required] == [("header", "Idempotency-Key", True)]
    assert not schema["paths"]["/dispatch/"]["post"].get("parameters")
