"""Teams: call signs, members, and the team admin a supervisor uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from apps.security.testing import mfa_force_login
from apps.teams.models import Team, TeamMembership
from apps.teams.selectors import team_by_ref

pytestmark = pytest.mark.django_db


def test_a_team_is_found_by_id_or_by_call_sign_in_any_case(team_a: Any) -> None:
    assert team_by_ref(str(team_a.pk)) == team_a
    assert team_by_ref("cr-a") == team_a
    assert team_by_ref("CR-A") == team_a
    assert team_by_ref("CR-Z") is None
    assert team_by_ref("99999") is None


def test_call_signs_are_unique(team_a: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(call_sign="CR-A")


def test_a_person_is_on_a_team_once(team_a: Any, clinician_a: Any) -> None:
    TeamMembership.objects.create(team=team_a, user=clinician_a, role="clinician")
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamMembership.objects.create(team=team_a, user=clinician_a, role="other")
    assert list(team_a.members.all()) == [clinician_a]


def test_new_teams_are_active_co_response_teams(team_a: Any) -> None:
    assert team_a.is_active
    assert team_a.kind == Team.Kind.CO_RESPONSE


def test_a_supervisor_adds_a_team_with_its_members_in_the_admin(
    supervisor: Any, clinician_a: Any, officer_a: Any
) -> None:
    client = Client()
    mfa_force_login(client, supervisor)
    response = client.post(
        "/admin/teams/team/add/",
        {
            "call_sign": "CR-9",
            "name": "Night car",
            "kind": "co_response",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-user": clinician_a.pk,
            "memberships-0-role": "clinician",
            "memberships-1-user": officer_a.pk,
            "memberships-1-role": "officer",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    team = Team.objects.get(call_sign="CR-9")
    assert set(team.memberships.values_list("user__username", "role")) == {
        ("clinician_a", "clinician"),
        ("officer_a", "officer"),
    }


def test_the_team_list_searches_by_member(supervisor: Any, team_a: Any, team_b: Any, officer_b: Any) -> None:
    TeamMembership.objects.create(team=team_b, user=officer_b, role="officer")
    client = Client()
    mfa_force_login(client, supervisor)
    page = client.get("/admin/teams/team/", {"q": "officer_b"}).content.decode()
    assert "CR-B" in page
    assert "CR-A" not in page


def test_a_clinical_supervisor_may_look_at_teams_but_not_change_them(
    make_user: Callable[..., Any], team_a: Any
) -> None:
    client = Client()
    mfa_force_login(client, make_user("clinsup", "clinical_supervisor", "clinician"))
    assert client.get("/admin/teams/team/").status_code == 200
    assert client.get("/admin/teams/team/add/").status_code == 403
    response = client.post(f"/admin/teams/team/{team_a.pk}/change/", {"call_sign": "HACKED", "kind": "co_response"})
    assert response.status_code == 403
    team_a.refresh_from_db()
    assert team_a.call_sign == "CR-A"
