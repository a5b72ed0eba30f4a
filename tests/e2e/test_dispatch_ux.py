"""What a new user tripped over in the first hour (issue 15), end to end in Chromium: the dispatcher's
panel follows its own write at once (buttons wait while an offer is in flight, a disabled one says
why), an unassigned high-priority call raises an alert on the console and the supervisor's board
until it is offered, closed calls can be searched, a second device signing in sends no "seen" for
old offers, people read words instead of codes, and a 360x640 phone shows the header, the tabs and
the active call's next step without wrapping or scrolling; the maps link suits the platform; the
board links to the admin."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from .auth import sign_in
from .conftest import ARTIFACTS, screenshot
from .test_dispatch_flow import LIVE, in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile"


@pytest.fixture
def desktop(browser: Any, live_asgi: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_asgi.url)
    yield ctx
    ctx.close()


def codes_on(page: Any) -> list[str]:
    """snake_case words in what the page shows (a code someone would have to read)."""
    return sorted(set(SNAKE.findall(page.evaluate("() => document.body.innerText"))))


def make_call(dispatcher: Any, *, received_ago: float = 0, **values: Any) -> Any:
    from apps.incidents import services

    fields = {"call_type_code": "SUICTHRT", "priority": 8, "address": "101 City Hall Plaza, Durham, NC"} | values
    if received_ago:
        fields["received_at"] = timezone.now() - dt.timedelta(seconds=received_ago)
    return in_thread(services.incident_create, by=dispatcher, values=fields)


def on_scene(incident: Any, team_id: int, *, dispatcher: Any, member: Any) -> Any:
    from apps.incidents import services

    offer = in_thread(services.assignment_offer, incident_id=incident.pk, team_id=team_id, by=dispatcher)
    in_thread(services.assignment_accept, assignment_id=offer.pk, by=member)
    for status in ("en_route", "on_scene"):
        in_thread(services.assignment_status_update, assignment_id=offer.pk, by=member, status=status)
    return offer


def test_the_panel_follows_the_offer_at_once_its_buttons_wait_and_a_disabled_one_says_why(
    desktop: Any, dispatcher: Any, on_shift_a: Any, on_shift_b: Any, officer_b: Any
) -> None:
    from playwright.sync_api import expect

    busy = make_call(dispatcher, call_type_code="MNTL", priority=6, address="500 W Chapel Hill St")
    on_scene(busy, on_shift_b.team_id, dispatcher=dispatcher, member=officer_b)
    call = make_call(dispatcher)
    console = desktop.new_page()
    sign_in(console, dispatcher.username)
    console.wait_for_url("**/dispatch")
    console.get_by_role("button", name=re.compile(r"P8.*101 City Hall Plaza")).click()

    # The busy team's button is disabled and says why, in words.
    offer_b = console.get_by_role("button", name="Offer to CR-B")
    expect(offer_b).to_be_disabled(timeout=LIVE)
    expect(console.get_by_test_id("offer-why")).to_have_text(f"Busy: On scene on incident #{busy.pk} (P6).")
    expect(offer_b).to_have_attribute("aria-describedby", f"offer-why-{on_shift_b.team_id}")

    # Hold the offer's answer and every board reload: while the offer is in flight the buttons wait.
    held: list[Any] = []
    console.route(f"**/api/v1/incidents/{call.pk}/assignments/", lambda route: held.append(route))
    console.route("**/api/v1/incidents/board/**", lambda route: held.append(route))
    console.get_by_role("button", name="Offer to CR-A").click()
    expect(console.get_by_role("button", name="Offering to CR-A…")).to_be_disabled()
    expect(console.get_by_test_id("offer-why").first).to_have_text("Sending the offer…")
    screenshot(console, "dispatch-ux-1-offer-in-flight")
    # The answer arrives; the board reloads stay held: the panel shows the offer from the answer.
    offer_route = next(r for r in held if r.request.method == "POST")
    held.remove(offer_route)
    offer_route.continue_()
    expect(console.get_by_test_id("assignment-status")).to_have_text(re.compile("Offered|Seen by team"), timeout=3000)
    expect(console.get_by_role("button", name=re.compile("Offer to"))).to_have_count(0)
    expect(console.locator(".incident-row.selected")).to_contain_text("CR-A")
    console.unroute("**/api/v1/incidents/board/**")
    for route in held:
        route.continue_()
    screenshot(console, "dispatch-ux-2-offered")


def test_an_unassigned_p8_call_raises_an_alert_on_the_console_and_the_board_until_it_is_offered(
    desktop: Any, phone: Any, dispatcher: Any, supervisor: Any, on_shift_a: Any
) -> None:
    from playwright.sync_api import expect

    from apps.incidents import services

    console = desktop.new_page()
    sign_in(console, dispatcher.username)
    console.wait_for_url("**/dispatch")
    board = phone().new_page()
    sign_in(board, supervisor.username)
    board.wait_for_url("**/board")

    call = make_call(dispatcher, received_ago=90)  # P8 may wait 60 s
    fresh = make_call(dispatcher, address="2 Main St")
    assert in_thread(services.unassigned_alerts_raise) == 1  # the beat's sweep, once

    for page in (console, board):
        alert = page.get_by_test_id("unassigned-alert")
        expect(alert).to_have_count(1, timeout=LIVE)
        expect(alert).to_contain_text("P8 Suicide attempt or threat (SUICTHRT) at 101 City Hall Plaza")
        expect(alert).to_contain_text(re.compile(r"waiting \d+ min with no team"))
        expect(alert).not_to_contain_text("2 Main St")
    screenshot(board, "dispatch-ux-3-board-unassigned-alert")

    console.get_by_test_id("unassigned-alert").get_by_role("button", name="Open").click()
    expect(console.get_by_role("heading", name=f"Incident #{call.pk}")).to_be_visible()
    console.get_by_role("button", name="Offer to CR-A").click()
    for page in (console, board):
        expect(page.get_by_test_id("unassigned-alert")).to_have_count(0, timeout=LIVE)
    assert fresh.pk != call.pk


def test_closed_calls_are_searched_by_cad_number_address_team_and_disposition_page_by_page(
    desktop: Any, dispatcher: Any, clinician_a: Any, on_shift_a: Any, on_shift_b: Any
) -> None:
    from playwright.sync_api import expect

    from apps.clinical.models import Disposition, Encounter
    from apps.incidents.models import Assignment, Incident, TimelineEntry

    now = timezone.now()
    for n in range(30):
        incident = Incident.objects.create(
            cad_source="durham", cad_number=f"D-{n:04d}", call_type_code="WELFARE", priority=4,
            address=f"{n} {'Roxboro St' if n % 3 else 'Main St'}", status="Closed",
            received_at=now - dt.timedelta(hours=n + 1), closed_at=now - dt.timedelta(hours=n),
            triage_outcome="dispatch_co_response", coresponse_eligible=True,
        )  # fmt: skip
        team = on_shift_a.team if n % 2 else on_shift_b.team
        Assignment.objects.create(incident=incident, team=team, status="cleared", cleared_at=incident.closed_at)
        if n == 7:
            encounter = Encounter.objects.create(kind="incident", incident=incident, created_by=clinician_a)
            Disposition.objects.create(encounter=encounter, code="transport_ed", recorded_by=clinician_a)
            TimelineEntry.objects.create(
                incident=incident, kind="triaged", field="triage_outcome", new_value="dispatch_co_response"
            )

    page = desktop.new_page()
    sign_in(page, dispatcher.username)
    page.wait_for_url("**/dispatch")
    page.get_by_role("navigation", name="Role").get_by_role("link", name="Closed calls").click()
    page.wait_for_url("**/closed")
    expect(page.get_by_role("heading", name="30 closed calls")).to_be_visible(timeout=LIVE)
    expect(page.get_by_test_id("closed-row")).to_have_count(25)
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_test_id("closed-row")).to_have_count(5)

    def search(**fields: str) -> None:
        page.get_by_role("button", name="Clear").click()
        for label, value in fields.items():
            field = page.get_by_label(label)
            if label == "Disposition":
                field.select_option(label=value)
            else:
                field.fill(value)
        page.get_by_role("button", name="Search").click()

    search(**{"CAD number": "D-0012"})
    expect(page.get_by_test_id("closed-row")).to_have_count(1)
    expect(page.get_by_test_id("closed-row")).to_contain_text("D-0012")
    search(Address="main st", **{"Team (call sign)": "cr-a"})  # n % 3 == 0 and odd: 3, 9, 15, 21, 27
    expect(page.get_by_role("heading", name="5 closed calls")).to_be_visible()
    search(Disposition="Voluntary transport to ED")
    expect(page.get_by_test_id("closed-row")).to_have_count(1)
    expect(page.get_by_test_id("closed-row")).to_contain_text("Voluntary transport to ED")
    page.get_by_test_id("closed-row").get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("closed-row").locator(".timeline")).to_contain_text(
        "Triage outcome: Dispatch co-response", timeout=LIVE
    )
    search(**{"Received from": "2026-06-03", "Received to": "2026-06-01"})
    expect(page.get_by_text("Must be on or after the first day (Received from).")).to_be_visible()
    screenshot(page, "dispatch-ux-4-closed-calls")
    assert codes_on(page) == [], codes_on(page)


def test_a_second_device_signing_in_sends_no_seen_for_an_offer_no_longer_open(
    phone: Any, dispatcher: Any, officer_a: Any, on_shift_a: Any
) -> None:
    from playwright.sync_api import expect

    from apps.incidents import services

    # Several old offers in the officer's stream: accepted and cleared, cancelled, declined.
    for n, end in enumerate(("cleared", "cancelled", "declined")):
        call = make_call(dispatcher, address=f"{n} Old St")
        offer = in_thread(services.assignment_offer, incident_id=call.pk, team_id=on_shift_a.team_id, by=dispatcher)
        if end == "cleared":
            in_thread(services.assignment_accept, assignment_id=offer.pk, by=officer_a)
            for status in ("en_route", "on_scene", "cleared"):
                in_thread(services.assignment_status_update, assignment_id=offer.pk, by=officer_a, status=status)
        elif end == "cancelled":
            in_thread(services.assignment_cancel, assignment_id=offer.pk, by=dispatcher, reason="caller safe")
        else:
            in_thread(services.assignment_decline, assignment_id=offer.pk, by=officer_a, reason="busy")

    second = phone().new_page()
    acks: list[str] = []
    conflicts: list[str] = []
    second.on("request", lambda r: acks.append(r.url) if r.url.endswith("/acknowledge/") else None)
    second.on("response", lambda r: conflicts.append(r.url) if r.status == 409 else None)
    dialogs: list[bool] = []
    second.expose_function("__dialogShown", lambda: dialogs.append(True))
    second.add_init_script(
        "new MutationObserver(() => { if (document.querySelector('[role=alertdialog]')) window.__dialogShown(); })"
        ".observe(document, { childList: true, subtree: true });"
    )
    sign_in(second, officer_a.username)
    second.wait_for_url("**/team")
    expect(second.get_by_text("No active assignment")).to_be_visible(timeout=LIVE)
    second.wait_for_timeout(3000)  # the stream's replay and the resync have run
    assert (acks, conflicts, dialogs) == ([], [], [])

    # A new offer still rings at once on this device, and is seen.
    call = make_call(dispatcher, address="9 New St")
    in_thread(services.assignment_offer, incident_id=call.pk, team_id=on_shift_a.team_id, by=dispatcher)
    expect(second.get_by_role("alertdialog", name="New assignment")).to_be_visible(timeout=LIVE)
    expect(second.get_by_role("alertdialog")).to_contain_text("9 New St")
    second.wait_for_timeout(1000)
    assert conflicts == []


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return dict(found)


def one_row(page: Any, selector: str) -> list[float]:
    """The vertical centres of the visible children of ``selector``: one row when they are (nearly) equal."""
    centres: list[float] = page.eval_on_selector(
        selector,
        "el => [...el.children].filter(c => c.getClientRects().length)"
        ".map(c => { const r = c.getBoundingClientRect(); return r.top + r.height / 2; })",
    )
    return centres


def test_at_360x640_header_tabs_and_the_next_step_fit_and_people_read_words_and_the_map_suits_the_phone(
    browser: Any, live_asgi: Any, dispatcher: Any, supervisor: Any, make_user: Any, on_shift_a: Any,
    officer_a: Any, clinician_a: Any, desktop: Any,
) -> None:  # fmt: skip
    from playwright.sync_api import expect

    from apps.accounts.models import User
    from apps.incidents import services

    # The demo's long-ish names, as the issue saw them truncated.
    User.objects.filter(pk=clinician_a.pk).update(first_name="Claire", last_name="Adams")
    User.objects.filter(pk=officer_a.pk).update(first_name="Omar", last_name="Evans")
    call = make_call(dispatcher, weapon_present=True, weapon_kind="kitchen knife", violence_toward_responders=True)
    in_thread(
        services.incident_triage, incident_id=call.pk, by=dispatcher, eligible=True,
        eligibility_reason="Suicidal statement", outcome="dispatch_co_response",
    )  # fmt: skip
    offer = in_thread(services.assignment_offer, incident_id=call.pk, team_id=on_shift_a.team_id, by=dispatcher)

    def open_phone(user: Any, agent: str) -> Any:
        ctx = browser.new_context(
            viewport={"width": 360, "height": 640}, base_url=live_asgi.url, has_touch=True, user_agent=agent
        )
        page = ctx.new_page()
        sign_in(page, user.username)
        page.wait_for_url("**/team")
        return page

    clinician = open_phone(clinician_a, IPHONE)
    officer = open_phone(officer_a, ANDROID)
    alert = officer.get_by_role("alertdialog", name="New assignment")
    expect(alert).to_be_visible(timeout=LIVE)
    alert.get_by_role("button", name="Accept").click()
    expect(alert).to_be_hidden(timeout=LIVE)

    for page, name, tabs in ((officer, "Omar", 2), (clinician, "Claire", 3)):
        next_step = page.get_by_role("button", name="En route")
        expect(next_step).to_be_visible(timeout=LIVE)
        page.wait_for_timeout(500)
        assert page.evaluate("() => window.scrollY") == 0
        header = box(page, ".app-header")
        assert header["height"] <= 64, header  # one line: brand, name, Security, Sign out
        header_rows = one_row(page, ".app-header")
        assert max(header_rows) - min(header_rows) <= 4, header_rows
        user_tops = one_row(page, ".app-header .user")
        assert max(user_tops) - min(user_tops) <= 4, user_tops
        assert page.locator(".user-name").inner_text() == name
        widths = page.evaluate(
            "() => [...document.querySelectorAll('.app-header, .app-header > *, .user > *')]"
            ".map(e => `${e.className}:${e.scrollWidth}/${e.clientWidth}/${e.getBoundingClientRect().width}`)"
        )
        page.screenshot(path=str(ARTIFACTS / f"dispatch-ux-header-{name}.png"))
        name_fits = "() => { const e = document.querySelector('.user-name'); return e.scrollWidth <= e.clientWidth; }"
        assert page.evaluate(name_fits), widths  # not cut off ("Claire Ad…" was)
        for button in ("Security", "Sign out"):
            b = page.locator(".app-header").get_by_text(button, exact=True)
            assert b.evaluate("e => e.getClientRects().length") == 1  # not wrapped onto two lines
        nav_tops = one_row(page, ".role-nav ul")
        assert len(nav_tops) == tabs and max(nav_tops) - min(nav_tops) <= 2, nav_tops
        action = dict(next_step.bounding_box())
        assert action["y"] + action["height"] <= 640, action  # on the first screen, no scrolling
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        expect(page.locator(".timeline")).to_contain_text("Triage outcome: Dispatch co-response", timeout=LIVE)
        assert codes_on(page) == [], codes_on(page)
    screenshot(officer, "dispatch-ux-5-officer-360x640")
    screenshot(clinician, "dispatch-ux-6-clinician-360x640")
    officer.screenshot(path=str(ARTIFACTS / "dispatch-ux-5b-officer-viewport.png"))  # what the first screen shows
    clinician.screenshot(path=str(ARTIFACTS / "dispatch-ux-6b-clinician-viewport.png"))

    # The maps link suits the phone: Android's geo: URI, Apple Maps on the iPhone; the address when no
    # coordinates are known.
    address = "101%20City%20Hall%20Plaza%2C%20Durham%2C%20NC"
    expect(officer.get_by_role("link", name="Open map")).to_have_attribute("href", f"geo:0,0?q={address}")
    expect(clinician.get_by_role("link", name="Open map")).to_have_attribute(
        "href", f"https://maps.apple.com/?q={address}"
    )
    expect(clinician.get_by_role("link", name="Open map")).to_have_attribute("target", "_blank")

    # The dispatcher's screens and the supervisor's board read words too.
    console = desktop.new_page()
    sign_in(console, dispatcher.username)
    console.wait_for_url("**/dispatch")
    console.get_by_role("button", name=re.compile(r"P8.*101 City Hall Plaza")).click()
    expect(console.get_by_test_id("assignment-status")).to_have_text("Accepted", timeout=LIVE)
    assert codes_on(console) == [], codes_on(console)
    board = browser.new_context(viewport={"width": 360, "height": 640}, base_url=live_asgi.url).new_page()
    sign_in(board, supervisor.username)
    board.wait_for_url("**/board")
    expect(board.locator(".board-table")).to_contain_text("CR-A: Accepted", timeout=LIVE)
    assert codes_on(board) == [], codes_on(board)
    assert offer.pk


def test_the_supervisors_board_links_to_the_admin(phone: Any, supervisor: Any, dispatcher: Any) -> None:
    from playwright.sync_api import expect

    from apps.accounts.models import User

    User.objects.filter(pk=supervisor.pk).update(is_staff=True)
    page = phone().new_page()
    sign_in(page, supervisor.username)
    page.wait_for_url("**/board")
    link = page.get_by_role("link", name="admin", exact=True)
    expect(link).to_have_attribute("href", "/admin/")
    expect(page.get_by_role("link", name="shifts", exact=True)).to_have_attribute("href", "/admin/shifts/shift/")
    with page.expect_navigation():
        link.click()
    assert "/admin/" in page.url
    expect(page.locator("body")).to_contain_text(re.compile("administration|Log in|code", re.I))

    # A dispatcher (not staff) gets no admin link.
    other = phone().new_page()
    sign_in(other, dispatcher.username)
    other.wait_for_url("**/dispatch")
    expect(other.get_by_role("link", name="admin", exact=True)).to_have_count(0)
