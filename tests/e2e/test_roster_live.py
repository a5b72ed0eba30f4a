"""A supervisor changes the roster; the dispatch console, the supervisor board and the phone of the
person put on the shift follow live, without a reload (shift.* / team.* events, issue 19).

The supervisor's changes are the shifts' and teams' services with ``by=`` the supervisor, as the admin
and the shifts API make them (a write no person made tells nobody)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from .auth import sign_in
from .conftest import screenshot
from .test_dispatch_flow import LIVE, in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desktop(browser: Any, live_asgi: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_asgi.url)
    yield ctx
    ctx.close()


def test_shift_and_team_changes_reach_console_board_and_phone_live(
    desktop: Any,
    phone: Any,
    on_shift_a: Any,
    team_b: Any,
    clinician_b: Any,
    officer_b: Any,
    dispatcher: Any,
    supervisor: Any,
    make_user: Any,
) -> None:
    from playwright.sync_api import expect

    from apps.shifts.models import Shift
    from apps.shifts.services import MemberSpec, shift_create, shift_delete, shift_update
    from apps.teams.services import MembershipSpec, team_save

    console = desktop.new_page()
    sign_in(console, dispatcher.username)
    console.wait_for_url("**/dispatch")
    teams = console.locator(".team-list")
    expect(teams).to_contain_text("CR-A")
    expect(teams).not_to_contain_text("CR-B")
    console.evaluate("window.__noReload = 'still the same page'")

    board = phone().new_page()
    sign_in(board, supervisor.username)
    board.wait_for_url("**/board")
    board_teams = board.locator(".team-list")
    expect(board_teams).to_contain_text("CR-A")
    board.evaluate("window.__noReload = 'still the same page'")

    officer = phone().new_page()
    sign_in(officer, officer_b.username)
    officer.wait_for_url("**/team")
    expect(officer.get_by_text("Not on shift")).to_be_visible()
    officer.evaluate("window.__noReload = 'still the same page'")

    # The supervisor puts team CR-B on duty now: officer_b with clinician_b.
    now = timezone.now()
    shift = in_thread(
        shift_create,
        team=team_b,
        starts_at=now - dt.timedelta(minutes=30),
        ends_at=now + dt.timedelta(hours=8),
        members=[MemberSpec(officer_b, "officer"), MemberSpec(clinician_b, "clinician")],
        created_by=supervisor,
    )
    expect(teams).to_contain_text("CR-B", timeout=LIVE)
    expect(teams.locator("li", has_text="CR-B")).to_contain_text("Chris Test")
    expect(board_teams).to_contain_text("CR-B", timeout=LIVE)
    expect(officer.get_by_role("heading", name="Team CR-B")).to_be_visible(timeout=LIVE)
    expect(officer.get_by_text("On shift", exact=True)).to_be_visible()
    expect(officer.get_by_text("Chris Test (Clinician)")).to_be_visible()

    # ... swaps the clinician: the console lists the new member, the officer has a new partner.
    clinician_c = make_user("clinician_c", "clinician", first="Casey")
    in_thread(
        shift_update,
        shift=shift,
        team=team_b,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        members=[MemberSpec(officer_b, "officer"), MemberSpec(clinician_c, "clinician")],
        note="",
        by=supervisor,
    )
    expect(teams.locator("li", has_text="CR-B")).to_contain_text("Casey Test", timeout=LIVE)
    expect(teams.locator("li", has_text="CR-B")).not_to_contain_text("Chris Test")
    expect(officer.get_by_text("Casey Test (Clinician)")).to_be_visible(timeout=LIVE)

    # ... renames the team (and sets its roster): its new call sign everywhere. team.* events go to
    # the team's members (its roster), so the officer is put on it.
    team_b.call_sign = "CR-B2"
    roster = [MembershipSpec(officer_b, "officer"), MembershipSpec(clinician_c, "clinician")]
    in_thread(team_save, team=team_b, memberships=roster, by=supervisor)
    expect(teams).to_contain_text("CR-B2", timeout=LIVE)
    expect(board_teams).to_contain_text("CR-B2", timeout=LIVE)
    expect(officer.get_by_role("heading", name="Team CR-B2")).to_be_visible(timeout=LIVE)
    screenshot(board, "roster-live-board")

    # ... and deletes the shift: the team leaves the console and the board, the officer is off shift.
    in_thread(shift_delete, shift=Shift.objects.get(pk=shift.pk), by=supervisor)
    expect(teams).not_to_contain_text("CR-B2", timeout=LIVE)
    expect(teams).to_contain_text("CR-A")
    expect(board_teams).not_to_contain_text("CR-B2", timeout=LIVE)
    expect(officer.get_by_text("Not on shift")).to_be_visible(timeout=LIVE)
    screenshot(officer, "roster-live-phone")

    for page in (console, board, officer):
        assert page.evaluate("window.__noReload") == "still the same page"
