"""Unassigned-call alerts: an eligible call nobody offered within its priority's time is raised once,
through the event log, to the dispatchers and supervisors; the offer (or a triage away) clears it."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from apps.incidents import services
from apps.incidents.models import Incident, UnassignedAlert
from apps.realtime.models import Event

RAISED, CLEARED = "incident.unassigned", "incident.unassigned_cleared"


def waiting(make_incident: Any, *, priority: int = 8, seconds: float = 61) -> Incident:
    received = timezone.now() - dt.timedelta(seconds=seconds)
    incident: Incident = make_incident(priority=priority, received_at=received)
    return incident


def events(kind: str, incident: Incident) -> list[Event]:
    return list(Event.objects.filter(type=kind, data__incident_id=incident.pk))


def test_the_threshold_depends_on_the_priority() -> None:
    assert [services.unassigned_threshold(p) for p in (10, 8, 7, 5, 4, 0)] == [60, 60, 180, 180, 600, 600]
    with override_settings(INCIDENTS_UNASSIGNED_ALERT_SECONDS={0: 30.0, 9: 5.0}):
        assert (services.unassigned_threshold(9), services.unassigned_threshold(8)) == (5.0, 30.0)


def test_a_p8_call_waiting_past_a_minute_is_raised_once_to_the_board_only(
    make_incident: Any, dispatcher: Any, supervisor: Any, officer_a: Any, on_shift_a: Any, api: Any
) -> None:
    late = waiting(make_incident, priority=8, seconds=61)
    fresh = waiting(make_incident, priority=8, seconds=30)
    mid = waiting(make_incident, priority=5, seconds=120)  # P5 may wait 3 minutes
    assert services.unassigned_alerts_raise() == 1
    assert services.unassigned_alerts_raise() == 0  # once: the next sweeps raise nothing
    (alert,) = UnassignedAlert.objects.all()
    assert alert.incident_id == late.pk and alert.waiting_since == late.received_at and alert.threshold_seconds == 60
    raised = events(RAISED, late)
    assert sorted(e.user_id for e in raised) == sorted([dispatcher.pk, supervisor.pk])
    assert raised[0].data["priority"] == 8 and raised[0].data["threshold_seconds"] == 60
    board = api(dispatcher).get("/api/v1/incidents/board/").json()["results"]
    alerts = {row["id"]: row["unassigned_alert"] for row in board}
    assert alerts[late.pk]["threshold_seconds"] == 60
    assert alerts[fresh.pk] is None and alerts[mid.pk] is None
    # Later, the P5 call's three minutes are up too.
    assert services.unassigned_alerts_raise(now=timezone.now() + dt.timedelta(seconds=61)) == 2  # mid and fresh


def test_the_offer_clears_the_alert_and_a_decline_starts_a_new_wait(
    make_incident: Any, dispatcher: Any, officer_a: Any, on_shift_a: Any, api: Any
) -> None:
    call = waiting(make_incident)
    services.unassigned_alerts_raise()
    offer = services.assignment_offer(incident_id=call.pk, team_id=on_shift_a.team_id, by=dispatcher)
    alert = UnassignedAlert.objects.get()
    assert alert.cleared_at is not None and alert.cleared_reason == "offered"
    assert [e.data["reason"] for e in events(CLEARED, call) if e.user_id == dispatcher.pk] == ["offered"]
    assert api(dispatcher).get("/api/v1/incidents/board/").json()["results"][0]["unassigned_alert"] is None
    assert services.unassigned_alerts_raise(now=timezone.now() + dt.timedelta(hours=1)) == 0  # it has a team

    declined = services.assignment_decline(assignment_id=offer.pk, by=officer_a, reason="on another call")
    assert declined.ended_at is not None
    assert services.unassigned_alerts_raise(now=declined.ended_at + dt.timedelta(seconds=59)) == 0
    assert services.unassigned_alerts_raise(now=declined.ended_at + dt.timedelta(seconds=61)) == 1
    second = UnassignedAlert.objects.get(cleared_at__isnull=True)
    assert second.waiting_since == declined.ended_at
    assert len([e for e in events(RAISED, call) if e.user_id == dispatcher.pk]) == 2


def test_a_call_triaged_away_from_co_response_is_not_alerted_and_its_alert_clears(
    make_incident: Any, dispatcher: Any
) -> None:
    call, other = waiting(make_incident), waiting(make_incident)
    services.incident_triage(
        incident_id=other.pk, by=dispatcher, eligible=False, eligibility_reason="no risk", outcome="police_only"
    )
    services.unassigned_alerts_raise()
    assert list(UnassignedAlert.objects.values_list("incident_id", flat=True)) == [call.pk]
    services.incident_triage(
        incident_id=call.pk,
        by=dispatcher,
        eligible=True,
        eligibility_reason="crisis",
        outcome="community_response",
        not_served_reason="all_teams_busy",
    )
    assert UnassignedAlert.objects.get().cleared_reason == "triaged"
    assert events(CLEARED, call)
    assert services.unassigned_alerts_raise(now=timezone.now() + dt.timedelta(hours=1)) == 0


@pytest.fixture
def _migration_data(transactional_db: Any) -> None:
    from django.contrib.auth.models import Group

    from apps.accounts.roles import ALL_ROLES
    from apps.incidents.models import CallType

    for role in ALL_ROLES:
        Group.objects.get_or_create(name=role)
    CallType.objects.get_or_create(local_code="SUICTHRT", defaults={"description": "Suicide attempt or threat"})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_migration_data")
def test_two_sweepers_at_once_raise_each_alert_exactly_once(make_incident: Any, dispatcher: Any) -> None:
    calls = [waiting(make_incident) for _ in range(8)]
    barrier = threading.Barrier(2)
    counts: list[Any] = [None, None]

    def sweep(i: int) -> None:
        try:
            barrier.wait()
            counts[i] = services.unassigned_alerts_raise()
        except Exception as exc:  # asserted below
            counts[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(counts) == len(calls), counts
    assert UnassignedAlert.objects.count() == len(calls)
    for call in calls:
        assert [e.user_id for e in events(RAISED, call)] == [dispatcher.pk]
