"""The dispatch half end to end: a dispatcher (desktop) creates and offers an incident, the team's
phones show the full-screen alert, the officer accepts and moves the call en route and on scene,
and the dispatcher (and the partner's phone) see every step live, without a reload."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from .auth import sign_in
from .conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

T = TypeVar("T")

# Cross-device updates travel page → server → socket → other page; generous on a busy CI machine.
LIVE = 30_000


def in_thread(fn: Callable[..., T], **kwargs: Any) -> T:
    """Runs a service call on its own thread, as a server process would. On the test's thread
    Playwright keeps an event loop, so the after-commit ring cannot reach the channel layer there
    and the events would only arrive with the periodic catch-up (15 s)."""
    from django.db import connection

    out: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out.append(fn(**kwargs))
        except BaseException as e:  # re-raised on the test's thread
            errors.append(e)
        finally:
            connection.close()

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    if errors:
        raise errors[0]
    return out[0]


@pytest.fixture
def desktop(browser: Any, live_asgi: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_asgi.url)
    yield ctx
    ctx.close()


def test_offer_accept_en_route_on_scene_live_on_every_screen(
    desktop: Any, phone: Any, on_shift_a: Any, officer_a: Any, clinician_a: Any, dispatcher: Any, supervisor: Any
) -> None:
    from playwright.sync_api import expect

    from apps.incidents.models import Assignment, Incident

    # The team's phones are open first (their sockets are live when the offer comes).
    officer = phone().new_page()
    sign_in(officer, officer_a.username)
    officer.wait_for_url("**/team")
    expect(officer.get_by_text("No active assignment")).to_be_visible()
    partner = phone().new_page()
    sign_in(partner, clinician_a.username)
    partner.wait_for_url("**/team")
    expect(partner.get_by_text("No active assignment")).to_be_visible()

    console = desktop.new_page()
    sign_in(console, dispatcher.username)
    console.wait_for_url("**/dispatch")
    console.evaluate("window.__noReload = 'still the same page'")
    expect(console.get_by_text("No open incidents.")).to_be_visible()

    # Create an incident by hand.
    console.get_by_role("button", name="New incident").click()
    console.get_by_label("Address").fill("410 W Chapel Hill St, Durham")
    console.get_by_label("Call type").select_option("SUICTHRT")
    console.get_by_label("Priority (0–10)").fill("8")
    console.get_by_label("Weapon present").check()
    console.get_by_label("Weapon kind").fill("knife")
    console.get_by_role("button", name="Create incident").click()
    expect(console.get_by_role("heading", name="Incident #")).to_contain_text("SUICTHRT", timeout=LIVE)
    incident = Incident.objects.get()
    assert incident.address == "410 W Chapel Hill St, Durham"
    assert incident.priority == 8 and incident.weapon_present and incident.weapon_kind == "knife"

    # Triage: eligible, dispatch co-response.
    triage = console.locator(".triage-form")
    triage.get_by_label("Yes").check()
    triage.get_by_label("Reason", exact=True).fill("Suicidal statement, no violence so far")
    triage.get_by_label("Outcome").select_option("dispatch_co_response")
    triage.get_by_role("button", name="Save triage").click()
    expect(triage.get_by_text("Triage saved.")).to_be_visible(timeout=LIVE)
    incident.refresh_from_db()
    assert incident.coresponse_eligible is True and incident.triage_outcome == "dispatch_co_response"

    # Offer it to team CR-A.
    console.get_by_role("button", name="Offer to CR-A").click()
    status = console.get_by_test_id("assignment-status")
    expect(status).to_be_visible()

    # The officer's phone: full-screen alert, safety first.
    alert = officer.get_by_role("alertdialog", name="New assignment")
    expect(alert).to_be_visible(timeout=LIVE)
    expect(alert.locator(".safety-flags")).to_contain_text("Weapon: knife")
    expect(alert).to_contain_text("410 W Chapel Hill St, Durham")
    expect(alert).to_contain_text("SUICTHRT")
    screenshot(officer, "dispatch-flow-1-incoming-alert")
    expect(partner.get_by_role("alertdialog", name="New assignment")).to_be_visible(timeout=LIVE)

    # Shown on a team device → acknowledged (seen), live on the console, with per-device receipts.
    expect(status).to_have_text("Seen by team", timeout=LIVE)
    assert Assignment.objects.get().acknowledged_at is not None
    # a team device's receipt (name, device, delivered and seen times); the dispatcher's own is not listed
    expect(console.locator(".receipts")).to_contain_text(
        re.compile(r"(Omar|Claire) Test \(device [0-9a-f]{8}\): delivered"), timeout=LIVE
    )
    expect(console.locator(".receipts")).not_to_contain_text("Dana")

    # Accept in one tap.
    alert.get_by_role("button", name="Accept").click()
    expect(alert).to_be_hidden(timeout=LIVE)
    expect(officer.locator(".active-assignment .pill-status")).to_have_text("Accepted", timeout=LIVE)
    expect(status).to_have_text("Accepted", timeout=LIVE)
    expect(partner.get_by_role("alertdialog")).to_be_hidden(timeout=LIVE)  # the partner's offer went away live

    # Only the legal next status is offered.
    buttons = officer.locator(".status-buttons button")
    expect(buttons).to_have_text(["En route"], timeout=LIVE)
    box = buttons.first.bounding_box()
    assert box is not None and box["height"] >= 48
    officer.get_by_role("button", name="En route").click()
    expect(status).to_have_text("En route", timeout=LIVE)
    expect(buttons).to_have_text(["On scene"], timeout=LIVE)
    officer.get_by_role("button", name="On scene").click()
    expect(status).to_have_text("On scene", timeout=LIVE)
    expect(buttons).to_have_text(["Transporting", "Clear"], timeout=LIVE)

    # The partner's phone followed along live; the clinician gets the encounter link.
    expect(partner.locator(".active-assignment .pill-status")).to_have_text("On scene", timeout=LIVE)
    expect(partner.locator(".active-assignment").get_by_role("link", name="Encounter", exact=True)).to_have_attribute(
        "href", f"/encounters/new?incident={incident.pk}&assignment={Assignment.objects.get().pk}"
    )
    expect(officer.locator(".active-assignment").get_by_role("link", name="Encounter", exact=True)).to_have_count(0)
    map_link = officer.get_by_role("link", name="Open map")
    # A desktop-class browser (no iOS, no Android) gets a neutral web map, searching the address.
    expect(map_link).to_have_attribute(
        "href", "https://www.openstreetmap.org/search?query=410%20W%20Chapel%20Hill%20St%2C%20Durham"
    )
    expect(officer.locator(".timeline")).to_contain_text("On scene", timeout=LIVE)
    screenshot(officer, "dispatch-flow-2-active-assignment")

    a = Assignment.objects.get()
    assert a.status == "on_scene" and a.accepted_at and a.en_route_at and a.on_scene_at

    # Every step reached the console without a reload.
    assert console.evaluate("window.__noReload") == "still the same page"
    console.set_viewport_size({"width": 360, "height": 740})
    screenshot(console, "dispatch-flow-3-dispatch-console")

    board = phone().new_page()
    sign_in(board, supervisor.username)
    board.wait_for_url("**/board")
    expect(board.locator(".board-table")).to_contain_text("CR-A: On scene", timeout=LIVE)
    expect(board.locator(".team-list")).to_contain_text("CR-A")
    screenshot(board, "dispatch-flow-4-board")


def test_decline_needs_a_reason_and_a_tap_queued_offline_that_lost_shows_the_current_state(
    phone: Any, on_shift_a: Any, officer_a: Any, clinician_a: Any, dispatcher: Any
) -> None:
    from playwright.sync_api import expect

    from apps.incidents import services
    from apps.incidents.models import Assignment

    incident = in_thread(
        services.incident_create,
        by=dispatcher,
        values={"call_type_code": "WELFARE", "priority": 4, "address": "1 Main St"},
    )
    pages = {}
    for user in (officer_a, clinician_a):
        page = phone().new_page()
        sign_in(page, user.username)
        page.wait_for_url("**/team")
        expect(page.get_by_text("No active assignment")).to_be_visible()
        pages[user.username] = page
    officer, partner = pages[officer_a.username], pages[clinician_a.username]
    in_thread(services.assignment_offer, incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)

    alert = officer.get_by_role("alertdialog", name="New assignment")
    expect(alert).to_be_visible(timeout=LIVE)
    expect(alert.get_by_text("No safety flags reported")).to_be_visible()
    alert.get_by_role("button", name="Decline…").click()
    alert.get_by_role("button", name="Decline assignment").click()
    expect(alert.get_by_text("Give a reason for declining.")).to_be_visible()
    assert Assignment.objects.get().status in {"offered", "acknowledged"}
    alert.get_by_role("button", name="Back").click()

    # The clinician taps Accept with no signal: kept on the phone.
    partner_alert = partner.get_by_role("alertdialog", name="New assignment")
    expect(partner_alert).to_be_visible(timeout=LIVE)
    partner.context.set_offline(True)
    partner_alert.get_by_role("button", name="Accept").click()
    expect(partner.locator(".notice-queued")).to_contain_text("saved on this device", timeout=LIVE)
    assert Assignment.objects.get().accepted_at is None

    # The officer accepts meanwhile; the clinician's queued tap replays on reconnect and loses (409).
    alert.get_by_role("button", name="Accept").click()
    expect(officer.locator(".active-assignment .pill-status")).to_have_text("Accepted", timeout=LIVE)
    partner.context.set_offline(False)
    expect(partner.locator(".notice-error")).to_contain_text('now "Accepted"', timeout=LIVE)
    expect(partner.locator(".active-assignment .pill-status")).to_have_text("Accepted", timeout=LIVE)
    a = Assignment.objects.get()
    assert a.status == "accepted" and a.accepted_by_id == officer_a.pk


def test_dispatcher_cancel_needs_a_reason_and_reassign_moves_the_offer_live(
    desktop: Any, phone: Any, on_shift_a: Any, on_shift_b: Any, officer_a: Any, officer_b: Any, dispatcher: Any
) -> None:
    from playwright.sync_api import expect

    from apps.incidents import services
    from apps.incidents.models import Assignment

    incident = in_thread(
        services.incident_create, by=dispatcher, values={"call_type_code": "EDP", "priority": 5, "address": "9 Elm St"}
    )
    phones = {}
    for user in (officer_a, officer_b):
        page = phone().new_page()
        sign_in(page, user.username)
        page.wait_for_url("**/team")
        expect(page.get_by_text("No active assignment")).to_be_visible(timeout=LIVE)
        phones[user.username] = page
    in_thread(services.assignment_offer, incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
    a_alert = phones[officer_a.username].get_by_role("alertdialog", name="New assignment")
    expect(a_alert).to_be_visible(timeout=LIVE)

    console = desktop.new_page()
    sign_in(console, dispatcher.username)
    console.wait_for_url("**/dispatch")
    console.locator(".incident-row", has_text="EDP").click()
    status = console.get_by_test_id("assignment-status")
    expect(status).to_be_visible(timeout=LIVE)

    # Cancel without a reason: the server refuses and nothing changes.
    console.get_by_role("button", name="Cancel assignment").click()
    expect(console.locator(".incident-panel .notice-error")).to_be_visible(timeout=LIVE)
    assert Assignment.objects.get().status in {"offered", "acknowledged"}

    # Reassign to CR-B with a reason: A's alert goes away, B's phone rings.
    console.get_by_label("Reason (for reassign or cancel)").fill("CR-A not answering")
    console.get_by_label("Reassign to").select_option(label="CR-B (Available)")
    console.get_by_role("button", name="Reassign").click()
    expect(console.locator(".incident-panel")).to_contain_text("Team CR-B", timeout=LIVE)
    expect(a_alert).to_be_hidden(timeout=LIVE)
    expect(phones[officer_b.username].get_by_role("alertdialog", name="New assignment")).to_be_visible(timeout=LIVE)
    old, new = Assignment.objects.order_by("pk")
    assert old.status == "cancelled" and "CR-A not answering" in old.end_reason
    assert new.team_id == on_shift_b.team_id and new.status in {"offered", "acknowledged"}


def test_a_status_tapped_without_signal_is_kept_and_sent_when_back_online(
    phone: Any, on_shift_a: Any, officer_a: Any, clinician_a: Any, dispatcher: Any
) -> None:
    from playwright.sync_api import expect

    from apps.incidents import services
    from apps.incidents.models import Assignment

    incident = in_thread(
        services.incident_create, by=dispatcher, values={"call_type_code": "OD", "priority": 7, "address": "3 Oak St"}
    )
    offered = in_thread(services.assignment_offer, incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
    in_thread(services.assignment_accept, assignment_id=offered.pk, by=clinician_a)

    officer = phone().new_page()
    sign_in(officer, officer_a.username)
    officer.wait_for_url("**/team")
    buttons = officer.locator(".status-buttons button")
    expect(buttons).to_have_text(["En route"], timeout=LIVE)

    officer.context.set_offline(True)
    officer.get_by_role("button", name="En route").click()
    expect(officer.locator(".notice-queued")).to_contain_text("saved on this device", timeout=LIVE)
    expect(buttons).to_have_text(["On scene"])  # shown at once; the write waits in the outbox
    expect(officer.locator(".banner")).to_contain_text("Offline", timeout=LIVE)
    assert Assignment.objects.get().status == "accepted"

    officer.context.set_offline(False)
    expect(officer.locator(".banner")).to_contain_text("synced", timeout=LIVE)
    a = Assignment.objects.get()
    assert a.status == "en_route" and a.en_route_at is not None
    expect(buttons).to_have_text(["On scene"], timeout=LIVE)
