"""seed_demo's world: whatever the hour, a team is free and a call waits, and the dispatcher can offer it."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.clinical.models import Disposition
from apps.demo import dispatch
from apps.incidents import services
from apps.incidents.models import Assignment, Incident
from apps.incidents.selectors import TeamStatus, team_availability

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def waiting_calls() -> list[Incident]:
    return list(
        Incident.objects.filter(cad_source=dispatch.DEMO_SOURCE, status__in=Incident.OPEN_STATUSES).exclude(
            assignments__status__in=Assignment.ACTIVE
        )
    )


@pytest.mark.parametrize("hour", [3, 7, 12, 18, 19, 23])
@override_settings(DEMO_MODE=True)
def test_at_any_hour_a_team_is_free_and_a_call_can_be_offered_to_it(hour: int) -> None:
    with time_machine.travel(dt.datetime(2026, 6, 3, hour, 5, tzinfo=NY), tick=False):
        output = seed()
        duties = team_availability()
        free = [d for d in duties if d.status == TeamStatus.AVAILABLE]
        busy = [d for d in duties if d.status == TeamStatus.NOT_AVAILABLE]
        assert len(duties) == 2 and len(free) == 1 and len(busy) == 1, output
        (call,) = waiting_calls()
        assert call.priority >= 7 and call.status == Incident.Status.ACTIVE
        # The dispatcher offers it, as on the console: the API answers 201.
        client = APIClient()
        client.force_authenticate(User.objects.get(username="dispatcher"))
        response = client.post(f"/api/v1/incidents/{call.pk}/assignments/", {"team": free[0].team.pk}, format="json")
        assert response.status_code == 201, response.json()
    assert "waiting to be offered" in output
    assert f"{free[0].team.call_sign}  Available" in output
    assert "dispatcher  Dana Diaz" in output


@override_settings(DEMO_MODE=True)
def test_once_the_waiting_call_is_taken_the_next_seed_queues_another_and_otherwise_adds_nothing() -> None:
    with time_machine.travel(dt.datetime(2026, 6, 3, 12, tzinfo=NY), tick=False):
        seed()
        count = Incident.objects.count()
        assert "0 new call(s) now" in seed()
        assert Incident.objects.count() == count
        (call,) = waiting_calls()
        free = next(d for d in team_availability() if d.status == TeamStatus.AVAILABLE)
        services.assignment_offer(incident_id=call.pk, team_id=free.team.pk, by=User.objects.get(username="dispatcher"))
        assert waiting_calls() == []
        assert "1 new call(s) now" in seed()
    (new,) = waiting_calls()
    assert new.pk != call.pk


@override_settings(DEMO_MODE=True)
def test_the_history_has_closed_calls_of_the_last_two_weeks_with_teams_and_dispositions() -> None:
    with time_machine.travel(dt.datetime(2026, 6, 3, 12, tzinfo=NY), tick=False):
        seed()
    history = Incident.objects.filter(cad_source=dispatch.HISTORY_SOURCE)
    assert history.count() >= 2 * dispatch.HISTORY_DAYS
    assert set(history.values_list("status", flat=True)) == {Incident.Status.CLOSED}
    first = min(history.values_list("received_at", flat=True))
    assert first.astimezone(NY).date() == dt.date(2026, 6, 3) - dt.timedelta(days=dispatch.HISTORY_DAYS)
    served = history.filter(triage_outcome=Incident.TriageOutcome.DISPATCH_CO_RESPONSE)
    assert served.exists()
    for incident in served:
        (a,) = incident.assignments.all()
        assert a.status == Assignment.Status.CLEARED
        stamps = [a.offered_at, a.accepted_at, a.en_route_at, a.on_scene_at, a.cleared_at]
        assert all(s is not None for s in stamps) and stamps == sorted(stamps)  # type: ignore[type-var]
        assert a.cleared_at == incident.closed_at
        assert incident.received_at < a.offered_at
    assert Disposition.objects.filter(encounter__incident__in=served).count() >= served.count()
    # Nobody's phone rang for the past: history writes no events.
    from apps.realtime.models import Event

    assert not Event.objects.filter(data__incident_id__in=list(history.values_list("pk", flat=True))).exists()


@override_settings(DEMO_MODE=True)
def test_report_prints_the_world_and_changes_nothing() -> None:
    with time_machine.travel(dt.datetime(2026, 6, 3, 12, tzinfo=NY), tick=False):
        seed()
        count = Incident.objects.count()
        out = StringIO()
        call_command("seed_demo", "--report", stdout=out)
    assert Incident.objects.count() == count
    text = out.getvalue()
    assert "Teams on duty now" in text and "Open calls:" in text and "password for all: coresponse-demo" in text
