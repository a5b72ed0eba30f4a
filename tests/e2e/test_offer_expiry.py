"""An offer that ends on the server while it rings on a phone (issue 19, item 7): the sweep expires it
after INCIDENTS_OFFER_EXPIRE_SECONDS, the phone's alert closes, the team reads why, and the offer's
lock-screen notification (tag = the escalation subject) is closed too. A withdrawn offer likewise."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from .auth import sign_in
from .clinical_helpers import wait_for_service_worker
from .conftest import screenshot
from .test_dispatch_flow import LIVE, in_thread
from .test_dispatch_ux import make_call

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOW = (
    "async (tag) => { const r = await navigator.serviceWorker.ready;"
    " await r.showNotification('Co-Response: new assignment', { tag }); }"
)
COUNT = "async (tag) => (await (await navigator.serviceWorker.ready).getNotifications({ tag })).length"


@pytest.mark.parametrize("end", ["expired", "cancelled"])
def test_an_offer_that_ends_on_the_server_leaves_the_phone_and_its_notification(
    phone: Any, dispatcher: Any, officer_a: Any, on_shift_a: Any, end: str
) -> None:
    from playwright.sync_api import expect

    from apps.incidents import services
    from apps.incidents.models import Assignment

    ctx = phone()
    ctx.grant_permissions(["notifications"])
    page = ctx.new_page()
    sign_in(page, officer_a.username)
    page.wait_for_url("**/team")
    wait_for_service_worker(page)
    expect(page.get_by_text("No active assignment")).to_be_visible(timeout=LIVE)

    call = make_call(dispatcher, address="77 Expiry Ave")
    offer = in_thread(services.assignment_offer, incident_id=call.pk, team_id=on_shift_a.team_id, by=dispatcher)
    alert = page.get_by_role("alertdialog", name="New assignment")
    expect(alert).to_contain_text("77 Expiry Ave", timeout=LIVE)
    tag = services.escalation_subject(offer.pk)
    page.evaluate(SHOW, tag)  # as the worker shows the offer's Web Push
    assert page.evaluate(COUNT, tag) == 1

    if end == "expired":
        deadline = offer.offered_at + dt.timedelta(seconds=300)
        assert in_thread(services.assignments_expire_due, now=deadline) == 1
        said = "expired: nobody accepted it in time"
    else:
        in_thread(services.assignment_cancel, assignment_id=offer.pk, by=dispatcher, reason="caller safe")
        said = "Dispatch withdrew the offer"
    assert Assignment.objects.get(pk=offer.pk).status == end

    expect(alert).to_be_hidden(timeout=LIVE)
    expect(page.locator(".assignment .notice-error")).to_contain_text(said, timeout=LIVE)
    expect(page.get_by_text("No active assignment")).to_be_visible()
    for _ in range(60):  # the page closes it as it applies the event (best effort: poll, not a fixed sleep)
        if page.evaluate(COUNT, tag) == 0:
            break
        page.wait_for_timeout(250)
    assert page.evaluate(COUNT, tag) == 0, "the offer's notification is still shown"
    screenshot(page, f"offer-{end}-on-the-phone")
