"""The supervisor's daily admin: shift lists, inline members with the rules, copy, generate, coverage."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client

from apps.security.testing import mfa_force_login
from apps.shifts.models import Shift, ShiftMember

from .conftest import ny

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/shifts/shift/"
ADD = "/admin/shifts/shift/add/"
GENERATE = "/admin/shifts/shift/generate/"
COVERAGE = "/admin/shifts/shift/coverage/"


@pytest.fixture
def sup_browser(supervisor: Any) -> Client:
    client = Client()
    mfa_force_login(client, supervisor)
    return client


def add_form(team: Any, start: dt.datetime, end: dt.datetime, *members: tuple[Any, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "team": team.pk,
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": end.strftime("%Y-%m-%d"),
        "ends_at_1": end.strftime("%H:%M:%S"),
        "note": "",
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "1000",
    }
    for i, (user, role) in enumerate(members):
        data[f"members-{i}-user"] = user.pk
        data[f"members-{i}-role"] = role
    return data


def test_a_supervisor_can_open_the_admin_index_and_the_team_and_shift_pages(
    sup_browser: Client, on_shift_a: Any
) -> None:
    for url in [
        "/admin/",
        CHANGELIST,
        ADD,
        f"{CHANGELIST}{on_shift_a.pk}/change/",
        "/admin/teams/team/",
        "/admin/teams/team/add/",
        f"/admin/teams/team/{on_shift_a.team_id}/change/",
        GENERATE,
        COVERAGE,
    ]:
        assert sup_browser.get(url).status_code == 200, url


def test_an_officer_cannot_open_the_admin(officer_a: Any) -> None:
    client = Client()
    client.force_login(officer_a)
    for url in ["/admin/", CHANGELIST, "/admin/teams/team/", GENERATE, COVERAGE]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")


def test_a_supervisor_adds_a_shift_with_inline_members_in_local_time(
    sup_browser: Client, team_a: Any, clinician_a: Any, officer_a: Any, supervisor: Any
) -> None:
    form = add_form(team_a, ny(2026, 3, 7, 20), ny(2026, 3, 8, 8), (clinician_a, "clinician"), (officer_a, "officer"))
    response = sup_browser.post(ADD, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    shift = Shift.objects.get()
    assert shift.starts_at == dt.datetime(2026, 3, 8, 1, tzinfo=dt.UTC)
    assert shift.duration == dt.timedelta(hours=11)
    assert shift.members.count() == 2
    assert shift.created_by == supervisor


def test_an_inline_with_two_officers_shows_the_rule_as_a_form_error_and_saves_nothing(
    sup_browser: Client, team_a: Any, officer_a: Any, officer_b: Any
) -> None:
    form = add_form(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), (officer_a, "officer"), (officer_b, "officer"))
    response = sup_browser.post(ADD, form)
    assert response.status_code == 200
    assert "A co-response shift needs at least one clinician and one officer." in response.content.decode()
    assert (Shift.objects.count(), ShiftMember.objects.count()) == (0, 0)


def test_an_inline_member_without_the_role_shows_a_form_error(
    sup_browser: Client, team_a: Any, officer_a: Any, officer_b: Any
) -> None:
    form = add_form(team_a, ny(2026, 6, 1, 8), ny(2026, 6, 1, 18), (officer_b, "clinician"), (officer_a, "officer"))
    response = sup_browser.post(ADD, form)
    assert response.status_code == 200
    assert "does not hold the clinician role" in response.content.decode()
    assert Shift.objects.count() == 0


def test_an_overlapping_shift_in_the_admin_names_the_clash(
    sup_browser: Client, on_shift_a: Any, team_b: Any, clinician_a: Any, officer_b: Any
) -> None:
    start = on_shift_a.starts_at + dt.timedelta(hours=1)
    form = add_form(team_b, start, start + dt.timedelta(hours=4), (clinician_a, "clinician"), (officer_b, "officer"))
    local = {k: v for k, v in form.items()}
    # Admin fields are local wall clock.
    from apps.core.timefmt import to_local

    s, e = to_local(start), to_local(start + dt.timedelta(hours=4))
    local.update(
        starts_at_0=s.strftime("%Y-%m-%d"),
        starts_at_1=s.strftime("%H:%M:%S"),
        ends_at_0=e.strftime("%Y-%m-%d"),
        ends_at_1=e.strftime("%H:%M:%S"),
    )
    response = sup_browser.post(ADD, local)
    assert response.status_code == 200
    assert "is already on CR-A" in response.content.decode()
    assert Shift.objects.count() == 1


def test_an_inverted_shift_in_the_admin_is_a_form_error(
    sup_browser: Client, team_a: Any, clinician_a: Any, officer_a: Any
) -> None:
    form = add_form(team_a, ny(2026, 6, 1, 18), ny(2026, 6, 1, 8), (clinician_a, "clinician"), (officer_a, "officer"))
    response = sup_browser.post(ADD, form)
    assert response.status_code == 200
    assert "End must be after start." in response.content.decode()
    assert Shift.objects.count() == 0


def test_the_shift_list_filters_by_day_week_and_team_and_searches_people(
    sup_browser: Client, book: Callable[..., Any], team_b: Any, clinician_b: Any, officer_b: Any
) -> None:
    today = book(ny(2026, 6, 3, 8), ny(2026, 6, 3, 18))  # Wednesday
    tomorrow_b = book(
        ny(2026, 6, 4, 8), ny(2026, 6, 4, 18), team=team_b, members=[(clinician_b, "clinician"), (officer_b, "officer")]
    )
    next_week = book(ny(2026, 6, 9, 8), ny(2026, 6, 9, 18))

    def listed(**params: str) -> set[int]:
        response = sup_browser.get(CHANGELIST, params)
        assert response.status_code == 200
        return {int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', response.content.decode())}

    with time_machine.travel(ny(2026, 6, 3, 9), tick=False):
        assert listed() == {today.pk, tomorrow_b.pk, next_week.pk}
        assert listed(when="today") == {today.pk}
        assert listed(when="tomorrow") == {tomorrow_b.pk}
        assert listed(when="this_week") == {today.pk, tomorrow_b.pk}
        assert listed(when="next_week") == {next_week.pk}
        assert listed(when="next_7") == {today.pk, tomorrow_b.pk, next_week.pk}
        assert listed(team__id__exact=str(team_b.pk)) == {tomorrow_b.pk}
        assert listed(q="Olivia") == {tomorrow_b.pk}
        assert listed(q="officer_a") == {today.pk, next_week.pk}


def test_copy_to_next_week_copies_and_reports_conflicts_without_creating_them(
    sup_browser: Client, book: Callable[..., Any]
) -> None:
    mon = book(ny(2026, 6, 1, 8), ny(2026, 6, 1, 18))
    tue = book(ny(2026, 6, 2, 8), ny(2026, 6, 2, 18))
    book(ny(2026, 6, 9, 12), ny(2026, 6, 9, 14))  # blocks next Tuesday
    response = sup_browser.post(
        CHANGELIST, {"action": "copy_to_next_week", "_selected_action": [mon.pk, tue.pk]}, follow=True
    )
    page = response.content.decode()
    assert "Copied 1 shift(s) to next week." in page
    assert "Not copied: CR-A Tue 2026-06-09 08:00–18:00 EDT" in page
    assert Shift.objects.count() == 4
    assert Shift.objects.filter(starts_at=ny(2026, 6, 8, 8), ends_at=ny(2026, 6, 8, 18)).exists()
    assert not Shift.objects.filter(starts_at=ny(2026, 6, 9, 8)).exists()


def _pattern(team: Any, clinician: Any, officer: Any, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "team": team.pk,
        "clinicians": [clinician.pk],
        "officers": [officer.pk],
        "weekdays": ["0", "1", "2", "3", "4"],
        "start_time": "08:00",
        "end_time": "18:00",
        "first_day": "2026-06-01",
        "weeks": "4",
    }
    data.update(extra)
    return data


def test_the_pattern_generator_makes_monday_to_friday_for_four_weeks(
    sup_browser: Client, team_a: Any, clinician_a: Any, officer_a: Any
) -> None:
    response = sup_browser.post(GENERATE, _pattern(team_a, clinician_a, officer_a))
    assert response.status_code == 200
    assert "Created 20 shift(s)." in response.content.decode()
    assert Shift.objects.count() == 20
    assert ShiftMember.objects.count() == 40


def test_the_pattern_generator_reports_conflicting_occurrences_and_does_not_create_them(
    sup_browser: Client, book: Callable[..., Any], team_a: Any, clinician_a: Any, officer_a: Any
) -> None:
    book(ny(2026, 6, 10, 17), ny(2026, 6, 10, 21))
    book(ny(2026, 6, 22, 7), ny(2026, 6, 22, 9))
    response = sup_browser.post(GENERATE, _pattern(team_a, clinician_a, officer_a))
    page = response.content.decode()
    assert "Created 18 shift(s)." in page
    assert "2 occurrence(s) not created" in page
    assert "Conflicts, not created (2)" in page
    assert "Wed 2026-06-10 08:00–18:00 EDT" in page
    assert Shift.objects.count() == 2 + 18


def test_the_pattern_generator_refuses_a_pattern_without_people(sup_browser: Client, team_a: Any) -> None:
    data = _pattern(team_a, team_a, team_a)
    data.pop("clinicians")
    data.pop("officers")
    response = sup_browser.post(GENERATE, data)
    assert "Choose the people who work this pattern." in response.content.decode()
    assert Shift.objects.count() == 0


def test_a_clinical_supervisor_may_view_coverage_but_not_generate(make_user: Callable[..., Any]) -> None:
    client = Client()
    mfa_force_login(client, make_user("clinsup", "clinical_supervisor"))
    assert client.get(COVERAGE).status_code == 200
    assert client.get(GENERATE).status_code == 403


def test_the_coverage_view_shows_the_hours_without_a_co_response_team(
    sup_browser: Client, book: Callable[..., Any], team_b: Any, clinician_b: Any, officer_b: Any
) -> None:
    # Wed 3 June 2026 10:00 local; the window is 3 June 00:00 → 10 June 00:00 local.
    pair_b = [(clinician_b, "clinician"), (officer_b, "officer")]
    for day in range(3, 10):
        book(ny(2026, 6, day, 0), ny(2026, 6, day, 12))
        if day != 5:  # Friday 12:00–24:00 stays uncovered
            book(ny(2026, 6, day, 12), ny(2026, 6, day + 1, 0), team=team_b, members=pair_b)
    with time_machine.travel(ny(2026, 6, 3, 10), tick=False):
        response = sup_browser.get(COVERAGE)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Fri 2026-06-05 12:00 – Sat 2026-06-06 00:00 EDT" in page
    assert '<th id="total">12.0</th>' in page


def test_a_local_time_that_does_not_exist_is_a_form_error_not_a_crash(
    sup_browser: Client, team_a: Any, clinician_a: Any, officer_a: Any
) -> None:
    form = add_form(
        team_a, ny(2026, 3, 8, 2, 30), ny(2026, 3, 8, 12), (clinician_a, "clinician"), (officer_a, "officer")
    )
    form["starts_at_1"] = "02:30:00"  # skipped by the spring-forward change
    response = sup_browser.post(ADD, form)
    assert response.status_code == 200
    assert "America/New_York" in response.content.decode()
    assert Shift.objects.count() == 0


def test_a_supervisor_edits_a_shift_in_the_admin_without_clashing_with_itself(
    sup_browser: Client, book: Callable[..., Any], clinician_a: Any, officer_a: Any
) -> None:
    shift = book(ny(2026, 6, 1, 8), ny(2026, 6, 1, 18))
    members = list(shift.members.order_by("id"))
    form = add_form(shift.team, ny(2026, 6, 1, 9), ny(2026, 6, 1, 19))
    form.update(
        {
            "members-TOTAL_FORMS": "2",
            "members-INITIAL_FORMS": "2",
            "members-0-id": members[0].pk,
            "members-0-shift": shift.pk,
            "members-0-user": members[0].user_id,
            "members-0-role": members[0].role,
            "members-1-id": members[1].pk,
            "members-1-shift": shift.pk,
            "members-1-user": members[1].user_id,
            "members-1-role": members[1].role,
        }
    )
    response = sup_browser.post(f"{CHANGELIST}{shift.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    shift.refresh_from_db()
    assert shift.starts_at == ny(2026, 6, 1, 9)


def test_a_supervisor_finds_people_for_the_inline_by_name(sup_browser: Client, clinician_a: Any) -> None:
    response = sup_browser.get(
        "/admin/autocomplete/",
        {"app_label": "shifts", "model_name": "shiftmember", "field_name": "user", "term": "Claire"},
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(clinician_a.pk)]
