"""SMS and voice alerts as people meet them, in Chromium at 360 px: a responder verifies their phone
number with the code texted to it (the local fake of Twilio receives the text), and the board shows,
per member, which stage reached them (SMS delivered, replied) live as the fake's signed webhooks
reach the app."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from apps.notifications.tests.fake_twilio import FakeTwilio, FakeTwilioServer, configure

from .auth import csp_violations, sign_in
from .axe import serious_violations
from .conftest import screenshot
from .test_dispatch_flow import LIVE, in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OFFICER = "+19195550101"
CLINICIAN = "+19195550102"


@pytest.fixture
def fake(live_asgi: Any, settings: Any) -> Iterator[FakeTwilio]:
    with FakeTwilioServer() as server:
        configure(settings, server, live_asgi.url)
        yield server


def code_texted_to(fake: FakeTwilio, number: str) -> str:
    match = re.search(r"code is (\d{6})", fake.messages(number)[-1].body)
    assert match, fake.messages(number)
    return match.group(1)


def test_a_responder_verifies_their_phone_number_with_the_texted_code(
    phone: Any, fake: FakeTwilio, on_shift_a: Any, officer_a: Any
) -> None:
    from playwright.sync_api import expect

    from apps.notifications.models import PhoneNumber

    page = phone().new_page()
    sign_in(page, officer_a.username)
    page.wait_for_url("**/team")
    page.goto("/security")
    card = page.locator("section", has=page.get_by_role("heading", name="Phone for call alerts"))
    expect(card).to_contain_text("No number yet", timeout=LIVE)

    card.get_by_label("Mobile number").fill("banana")
    card.get_by_role("button", name="Text me a code").click()
    expect(card.get_by_role("alert")).to_contain_text("Not a phone number")
    assert fake.messages() == []

    card.get_by_label("Mobile number").fill("(919) 555-0142")
    card.get_by_role("button", name="Text me a code").click()
    expect(card.get_by_role("status").first).to_contain_text("We texted you a 6-digit code")
    code_field = card.get_by_label("Code texted to +19195550142")
    expect(code_field).to_be_visible()
    screenshot(page, "phone-alerts-1-code-sent")
    assert serious_violations(page) == []
    code = code_texted_to(fake, "+19195550142")

    code_field.fill("000000" if code != "000000" else "111111")
    card.get_by_role("button", name="Confirm number").click()
    expect(card.get_by_role("alert")).to_contain_text("tries left")
    assert not PhoneNumber.objects.filter(user=officer_a).exists()

    code_field.fill(code)
    card.get_by_role("button", name="Confirm number").click()
    expect(card.get_by_role("status").first).to_contain_text("Number verified")
    expect(card.get_by_test_id("phone-status")).to_contain_text("+19195550142")
    expect(card.get_by_test_id("phone-status")).to_contain_text("Verified")
    expect(code_field).to_be_hidden()
    box = card.get_by_role("button", name="Text me a code").bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 360
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360  # nothing runs off a phone
    screenshot(page, "phone-alerts-2-verified")
    assert serious_violations(page) == []
    assert csp_violations(page) == []
    saved = PhoneNumber.objects.get(user=officer_a)
    assert saved.number == "+19195550142" and saved.verified_at is not None

    # The same person on a second phone sees the saved, verified number.
    other = phone().new_page()
    sign_in(other, officer_a.username)
    other.wait_for_url("**/team")
    other.goto("/security")
    expect(other.get_by_test_id("phone-status")).to_contain_text("+19195550142", timeout=LIVE)
    expect(other.get_by_test_id("phone-status")).to_contain_text("Verified")


def test_the_board_shows_per_member_which_stage_reached_them(
    phone: Any, fake: FakeTwilio, on_shift_a: Any, officer_a: Any, clinician_a: Any, dispatcher: Any, supervisor: Any
) -> None:
    from django.utils import timezone
    from playwright.sync_api import expect

    from apps.incidents.services import assignment_offer, incident_create
    from apps.notifications.models import PhoneNumber
    from apps.notifications.services import notifications_sweep
    from apps.realtime.escalation import escalation_sweep
    from apps.realtime.models import Escalation

    now = timezone.now()
    PhoneNumber.objects.create(user=officer_a, number=OFFICER, verified_at=now)
    PhoneNumber.objects.create(user=clinician_a, number=CLINICIAN, verified_at=now)

    board = phone().new_page()
    sign_in(board, supervisor.username)
    board.wait_for_url("**/board")
    expect(board.get_by_text("No open incidents.")).to_be_visible(timeout=LIVE)

    incident = incident_create(
        by=dispatcher, values={"call_type_code": "SUICTHRT", "priority": 8, "address": "101 City Hall Plaza"}
    )
    assignment = in_thread(assignment_offer, incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
    in_thread(escalation_sweep)
    offered = Escalation.objects.get(subject=f"assignment:{assignment.pk}").created_at
    in_thread(notifications_sweep, now=offered + dt.timedelta(seconds=41))
    row = board.locator(".board-table tr", has_text=f"#{incident.pk}")
    reach = row.get_by_test_id("reach")
    expect(reach.locator(f"li[data-user='{officer_a.pk}']")).to_contain_text("SMS sent", timeout=LIVE)

    (text,) = fake.messages(OFFICER)
    fake.deliver(text)  # signed status callbacks through the live app
    expect(reach.locator(f"li[data-user='{officer_a.pk}']")).to_contain_text("SMS delivered", timeout=LIVE)
    expect(reach.locator(f"li[data-user='{clinician_a.pk}']")).to_contain_text("SMS sent")

    assert fake.text_from(OFFICER, "1").status_code == 200
    expect(row).to_contain_text("CR-A: Accepted", timeout=LIVE)
    expect(reach.locator(f"li[data-user='{officer_a.pk}']")).to_contain_text("replied: accept (SMS)", timeout=LIVE)
    assert board.evaluate("() => document.documentElement.scrollWidth") <= 360
    screenshot(board, "phone-alerts-3-board")
    assert serious_violations(board) == []
