"""Real races on PostgreSQL: threads with their own connections, released together on a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection

from apps.core.errors import Conflict
from apps.incidents import services
from apps.incidents.models import Assignment, Incident, TimelineEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _migration_data(transactional_db: Any) -> None:
    """A transactional test runs on flushed tables: the role groups and the seeded call type that
    migrations made may be gone (another transactional test ran first). Put back what we use.
    (serialized_rollback would too, but it serialises every app's tables and breaks while any app
    has a model without its migration.)"""
    from django.contrib.auth.models import Group

    from apps.accounts.roles import ALL_ROLES
    from apps.incidents.models import CallType

    for role in ALL_ROLES:
        Group.objects.get_or_create(name=role)
    CallType.objects.get_or_create(local_code="EDP", defaults={"description": "Emotional disturbance"})


ROUNDS = 20


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, each in its own thread (own connection); results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_devices_accepting_at_once_exactly_one_wins(
    dispatcher: Any, on_shift_a: Any, officer_a: Any, clinician_a: Any
) -> None:
    for _ in range(ROUNDS):
        incident = services.incident_create(by=dispatcher, values={"call_type_code": "EDP", "priority": 7})
        offer = services.assignment_offer(incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
        results = race(
            partial(services.assignment_accept, assignment_id=offer.pk, by=officer_a),
            partial(services.assignment_accept, assignment_id=offer.pk, by=clinician_a),
        )
        winners = [r for r in results if isinstance(r, Assignment)]
        losers = [r for r in results if isinstance(r, Conflict)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert losers[0].status_code == 409
        assert losers[0].extra["current"]["status"] == "accepted"
        row = Assignment.objects.get(pk=offer.pk)
        assert row.status == "accepted" and row.accepted_by_id == winners[0].accepted_by_id
        accepted_entries = TimelineEntry.objects.filter(assignment=row, new_value="accepted").count()
        assert accepted_entries == 1
        assert Incident.objects.get(pk=incident.pk).status == "ResourcesAssigned"
        # Free the team for the next round.
        services.assignment_cancel(assignment_id=offer.pk, by=dispatcher, reason="test round over")


def test_two_dispatchers_offering_to_two_teams_at_once_exactly_one_wins(
    dispatcher: Any, make_user: Any, on_shift_a: Any, on_shift_b: Any
) -> None:
    second = make_user("dispatcher2", "dispatcher")
    for _ in range(ROUNDS):
        incident = services.incident_create(by=dispatcher, values={"call_type_code": "EDP", "priority": 7})
        results = race(
            partial(services.assignment_offer, incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher),
            partial(services.assignment_offer, incident_id=incident.pk, team_id=on_shift_b.team_id, by=second),
        )
        winners = [r for r in results if isinstance(r, Assignment)]
        losers = [r for r in results if isinstance(r, Conflict)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert Assignment.objects.filter(incident=incident, status__in=Assignment.ACTIVE).count() == 1
        services.assignment_cancel(assignment_id=winners[0].pk, by=dispatcher, reason="test round over")


def test_accept_racing_a_cancel_leaves_one_consistent_outcome(dispatcher: Any, on_shift_a: Any, officer_a: Any) -> None:
    for _ in range(ROUNDS):
        incident = services.incident_create(by=dispatcher, values={"call_type_code": "EDP", "priority": 7})
        offer = services.assignment_offer(incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
        results = race(
            partial(services.assignment_accept, assignment_id=offer.pk, by=officer_a),
            partial(services.assignment_cancel, assignment_id=offer.pk, by=dispatcher, reason="race"),
        )
        assert not any(isinstance(r, Exception) and not isinstance(r, Conflict) for r in results), results
        final = Assignment.objects.get(pk=offer.pk).status
        # Either the cancel came second (it may cancel an accepted call) or the accept lost.
        assert final == "cancelled"
        assert Incident.objects.get(pk=incident.pk).status == "Active"


def test_the_same_cad_call_posted_twice_at_once_is_one_incident(cad_user: Any) -> None:
    values = {"call_type_code": "EDP", "priority": 5}
    for i in range(ROUNDS):
        number = f"RACE-{i}"
        upsert = partial(
            services.cad_incident_upsert,
            by=cad_user,
            cad_source="cad",
            cad_number=number,
            values=values,
            updated_at=None,
        )
        results = race(upsert, upsert)
        assert not any(isinstance(r, Exception) for r in results), results
        assert sorted(r.created for r in results) == [False, True]
        assert Incident.objects.filter(cad_number=number).count() == 1


def test_two_phones_accepting_over_http_get_200_and_409(
    api: Any, dispatcher: Any, on_shift_a: Any, officer_a: Any, clinician_a: Any
) -> None:
    phones = [api(officer_a), api(clinician_a)]
    for _ in range(ROUNDS):
        incident = services.incident_create(by=dispatcher, values={"call_type_code": "EDP", "priority": 7})
        offer = services.assignment_offer(incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
        url = f"/api/v1/assignments/{offer.pk}/accept/"
        responses = race(*(partial(phone.post, url) for phone in phones))
        assert sorted(r.status_code for r in responses) == [200, 409], responses
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["current"]["status"] == "accepted"
        services.assignment_cancel(assignment_id=offer.pk, by=dispatcher, reason="test round over")
