from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from apps.realtime.models import Event, EventStream
from apps.realtime.services import event_emit, events_after, stream_position

from .conftest import TEST_OFFER


@pytest.mark.django_db(transaction=True)
def test_event_emit_outside_a_transaction_is_refused(officer_a: Any) -> None:
    with pytest.raises(RuntimeError):
        event_emit(type="test.event", recipients=[officer_a], data={"a": 1})


def test_each_recipient_gets_its_own_payload_and_sequence(
    officer_a: Any, clinician_a: Any, captured_events: Any
) -> None:
    with transaction.atomic():
        event_emit(type="test.event", recipients=[officer_a, clinician_a], data=lambda u: {"for": u.username})
        event_emit(type="test.event", recipients=[officer_a], data={"n": 2})
    mine = events_after(user_id=officer_a.pk, after=0, limit=10)
    assert [(e.seq, e.data) for e in mine] == [(1, {"for": "officer_a"}), (2, {"n": 2})]
    theirs = events_after(user_id=clinician_a.pk, after=0, limit=10)
    assert [(e.seq, e.data) for e in theirs] == [(1, {"for": "clinician_a"})]
    assert mine[0].uid == theirs[0].uid  # one event, one id, two recipients
    assert stream_position(user_id=officer_a.pk) == 2


def test_a_payload_function_returning_none_skips_that_recipient(officer_a: Any, clinician_a: Any) -> None:
    with transaction.atomic():
        event_emit(
            type="test.event", recipients=[officer_a, clinician_a], data=lambda u: None if u == officer_a else {"x": 1}
        )
    assert not Event.objects.filter(user=officer_a).exists()
    assert Event.objects.filter(user=clinician_a).count() == 1


def test_a_rolled_back_emit_stores_nothing_and_rings_nothing(
    officer_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(ZeroDivisionError),
        transaction.atomic(),
    ):
        event_emit(type="test.event", recipients=[officer_a], data={"x": 1})
        raise ZeroDivisionError
    assert callbacks == []
    assert not Event.objects.exists()


@pytest.mark.parametrize("key", ["narrative", "note_text", "assessment", "cssrs", "safety_plan"])
def test_clinical_keys_never_enter_an_officers_stream(officer_a: Any, clinician_a: Any, key: str) -> None:
    with pytest.raises(ValueError, match="clinical"), transaction.atomic():
        event_emit(type="test.event", recipients=[officer_a, clinician_a], data={"incident_id": 1, key: "..."})
    assert not Event.objects.exists()
    with transaction.atomic():  # the clinician alone may get it
        event_emit(type="test.event", recipients=[clinician_a], data={"incident_id": 1, key: "..."})
    assert Event.objects.filter(user=clinician_a).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_emitters_leave_no_gap_and_no_duplicate_in_any_stream(make_user: Any) -> None:
    """Sequence numbers are taken under the stream row lock: 8 threads × 25 events to 3 overlapping
    recipients give every stream exactly 1..N, committed in order."""
    users = [make_user(f"u{i}", "officer") for i in range(3)]
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for n in range(25):
                with transaction.atomic():
                    event_emit(type="test.event", recipients=users[i % 2 : i % 2 + 2], data={"w": i, "n": n})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for user in users:
        seqs = list(Event.objects.filter(user=user).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))
        assert EventStream.objects.get(user=user).last_seq == len(seqs)
    assert Event.objects.count() == 8 * 25 * 2


def test_the_rest_resync_pages_the_stream_and_marks_the_events_that_take_receipts(
    api: Any, officer_a: Any, clinician_a: Any
) -> None:
    with transaction.atomic():
        event_emit(type=TEST_OFFER, recipients=[officer_a], data={"incident_id": 1})
        for n in range(2, 5):
            event_emit(type="test.event", recipients=[officer_a], data={"n": n})
        event_emit(type="test.event", recipients=[clinician_a], data={"n": 99})
    first = api(officer_a).get("/api/v1/events/?after=0&limit=2").json()
    assert [e["cursor"] for e in first["results"]] == [1, 2]
    assert [e["receipt"] for e in first["results"]] == [True, False]  # keep a receipt for the offer
    assert first["has_more"] is True and first["next_after"] == 2
    rest = api(officer_a).get(f"/api/v1/events/?after={first['next_after']}&limit=2").json()
    assert [e["cursor"] for e in rest["results"]] == [3, 4] and rest["has_more"] is False
    beyond = api(officer_a).get("/api/v1/events/?after=50").json()
    assert beyond == {"results": [], "next_after": 50, "has_more": False}
    bad = api(officer_a).get("/api/v1/events/?after=-1")
    assert bad.status_code == 400 and "after" in bad.json()["errors"]
