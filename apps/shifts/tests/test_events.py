"""A supervisor's change to the roster reaches the board live (shift.* / team.* events) and is audited
once (the admin history), by the API and by the admin alike, inside the write's transaction."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.test import Client

from apps.realtime.models import Event
from apps.security.testing import mfa_force_login
from apps.shifts.models import Shift, ShiftMember
from apps.teams.models import Team, TeamMembership

from .conftest import ny
from .test_admin import ADD, add_form

pytestmark = pytest.mark.django_db


def events(type: str) -> dict[int, dict[str, Any]]:
    return {e.user_id: e.data for e in Event.objects.filter(type=type)}


def history(obj: Any) -> list[tuple[int, int]]:
    return list(LogEntry.objects.filter(object_id=str(obj.pk)).values_list("action_flag", "user_id"))


def shift_body(team: Any, *members: tuple[Any, str]) -> dict[str, Any]:
    return {
        "team": team.pk,
        "starts_at": "2026-06-01T08:00:00-04:00",
        "ends_at": "2026-06-01T18:00:00-04:00",
        "members": [{"user": u.pk, "role": r} for u, r in members],
    }


def test_deleting_a_shift_by_the_api_is_audited_and_told_to_the_board_and_its_people(
    api: Any, supervisor: Any, dispatcher: Any, officer_b: Any, on_shift_a: Any, clinician_a: Any, officer_a: Any
) -> None:
    shift_id = on_shift_a.pk
    response = api(supervisor).delete(f"/api/v1/shifts/{shift_id}/")
    assert response.status_code == 204
    assert not Shift.objects.filter(pk=shift_id).exists()
    entry = LogEntry.objects.get(object_id=str(shift_id))
    assert (entry.action_flag, entry.user_id) == (DELETION, supervisor.pk)
    assert "CR-A" in entry.change_message and clinician_a.display_name in entry.change_message
    told = events("shift.deleted")
    assert set(told) == {supervisor.pk, dispatcher.pk, clinician_a.pk, officer_a.pk}  # not officer_b
    assert told[dispatcher.pk]["shift_id"] == shift_id
    assert told[dispatcher.pk]["member_ids"] == sorted([clinician_a.pk, officer_a.pk])


def test_the_audit_and_the_delete_are_one_transaction(supervisor: Any, on_shift_a: Any, monkeypatch: Any) -> None:
    """If telling the board fails, the shift is not deleted and no history says it was."""
    from apps.shifts import services

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("event log down")

    shift_id = on_shift_a.pk
    monkeypatch.setattr(services, "event_emit", broken)
    with pytest.raises(RuntimeError):
        services.shift_delete(shift=on_shift_a, by=supervisor)
    assert ShiftMember.objects.filter(shift_id=shift_id).count() == 2
    assert not LogEntry.objects.exists()


def test_changing_a_shift_tells_the_person_taken_off_it(
    api: Any, supervisor: Any, on_shift_a: Any, clinician_a: Any, officer_a: Any, officer_b: Any
) -> None:
    body = shift_body(on_shift_a.team, (clinician_a, "clinician"), (officer_b, "officer"))
    response = api(supervisor).put(f"/api/v1/shifts/{on_shift_a.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    told = events("shift.updated")
    assert {officer_a.pk, officer_b.pk, clinician_a.pk, supervisor.pk} <= set(told)
    assert told[officer_a.pk]["member_ids"] == sorted([clinician_a.pk, officer_b.pk])
    assert history(on_shift_a) == [(CHANGE, supervisor.pk)]


def test_creating_a_shift_by_the_api_is_audited_once(
    api: Any, supervisor: Any, team_a: Any, clinician_a: Any, officer_a: Any
) -> None:
    body = shift_body(team_a, (clinician_a, "clinician"), (officer_a, "officer"))
    response = api(supervisor).post("/api/v1/shifts/", body, format="json")
    assert response.status_code == 201
    shift = Shift.objects.get(pk=response.json()["id"])
    assert history(shift) == [(ADDITION, supervisor.pk)]
    assert set(events("shift.created")) == {supervisor.pk, clinician_a.pk, officer_a.pk}


def test_the_admin_writes_through_the_services_with_one_history_entry_each(
    supervisor: Any, dispatcher: Any, team_a: Any, clinician_a: Any, officer_a: Any
) -> None:
    browser = Client()
    mfa_force_login(browser, supervisor)
    form = add_form(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), (clinician_a, "clinician"), (officer_a, "officer"))
    assert browser.post(ADD, form).status_code == 302
    shift = Shift.objects.get()
    assert history(shift) == [(ADDITION, supervisor.pk)]
    assert set(events("shift.created")) == {supervisor.pk, dispatcher.pk, clinician_a.pk, officer_a.pk}

    response = browser.post(f"/admin/shifts/shift/{shift.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ShiftMember.objects.exists()
    assert sorted(history(shift)) == [(ADDITION, supervisor.pk), (DELETION, supervisor.pk)]
    assert set(events("shift.deleted")) == {supervisor.pk, dispatcher.pk, clinician_a.pk, officer_a.pk}


def test_a_team_change_in_the_admin_is_audited_once_and_told_to_the_board(
    supervisor: Any, dispatcher: Any, team_a: Any, officer_a: Any, clinician_a: Any
) -> None:
    TeamMembership.objects.create(team=team_a, user=officer_a, role="officer")
    browser = Client()
    mfa_force_login(browser, supervisor)
    membership = TeamMembership.objects.get()
    form = {
        "call_sign": "CR-A",
        "name": "Team A renamed",
        "kind": Team.Kind.CO_RESPONSE,
        "is_active": "on",
        "memberships-TOTAL_FORMS": "2",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": membership.pk,
        "memberships-0-team": team_a.pk,
        "memberships-0-user": officer_a.pk,
        "memberships-0-role": "officer",
        "memberships-0-DELETE": "on",
        "memberships-1-team": team_a.pk,
        "memberships-1-user": clinician_a.pk,
        "memberships-1-role": "clinician",
    }
    response = browser.post(f"/admin/teams/team/{team_a.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(TeamMembership.objects.values_list("user_id", "role")) == [(clinician_a.pk, "clinician")]
    assert history(team_a) == [(CHANGE, supervisor.pk)]
    told = events("team.updated")
    assert {supervisor.pk, dispatcher.pk, officer_a.pk, clinician_a.pk} == set(told)  # the one taken off too
    assert told[dispatcher.pk]["name"] == "Team A renamed"
    assert told[dispatcher.pk]["member_ids"] == [clinician_a.pk]
