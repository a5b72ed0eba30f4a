"""axe-core finds no serious or critical violation on the dispatch-half screens, light and dark:
sign-in, team home (idle and with an incoming assignment), dispatch console, supervisor board.

axe-core is an npm devDependency of the frontend (`npm ci` installs it); it is injected from
node_modules, nothing is downloaded at test time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .auth import sign_in
from .axe import serious_violations
from .conftest import screenshot
from .test_dispatch_flow import LIVE, in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCHEMES = ["light", "dark"]


def emit_in_transaction(**kwargs: Any) -> None:
    from django.db import transaction

    from apps.realtime.services import event_emit

    with transaction.atomic():
        event_emit(**kwargs)


def check(page: Any, name: str) -> None:
    violations = serious_violations(page)
    screenshot(page, f"a11y-{name}")
    assert violations == [], f"{name}: " + "\n".join(violations)


@pytest.fixture
def desktop(browser: Any, live_asgi: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_context(**kwargs: Any) -> Any:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_asgi.url, **kwargs)
        contexts.append(ctx)
        return ctx

    yield open_context
    for ctx in contexts:
        ctx.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_sign_in_and_team_home_idle_and_incoming(
    phone: Any, scheme: str, on_shift_a: Any, officer_a: Any, dispatcher: Any
) -> None:
    from playwright.sync_api import expect

    from apps.incidents import services

    page = phone(color_scheme=scheme).new_page()
    page.goto("/")
    page.get_by_label("Username").wait_for()
    check(page, f"signin-{scheme}")

    sign_in(page, officer_a.username)
    page.wait_for_url("**/team")
    expect(page.get_by_text("No active assignment")).to_be_visible(timeout=LIVE)
    check(page, f"team-idle-{scheme}")

    incident = in_thread(
        services.incident_create,
        by=dispatcher,
        values={
            "call_type_code": "MTLV",
            "priority": 9,
            "address": "500 E Main St",
            "weapon_present": True,
            "weapon_kind": "bat",
            "violence_toward_responders": True,
            "premise_hazards": "dog",
        },
    )
    in_thread(services.assignment_offer, incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
    alert = page.get_by_role("alertdialog", name="New assignment")
    expect(alert).to_be_visible(timeout=LIVE)
    check(page, f"team-incoming-{scheme}")

    alert.get_by_role("button", name="Decline…").click()
    alert.get_by_role("button", name="Decline assignment").click()
    expect(alert.get_by_text("Give a reason for declining.")).to_be_visible(timeout=LIVE)
    check(page, f"team-incoming-decline-error-{scheme}")

    alert.get_by_role("button", name="Back").click()
    alert.get_by_role("button", name="Accept").click()
    expect(page.locator(".status-buttons button")).to_have_text(["En route"], timeout=LIVE)
    check(page, f"team-active-{scheme}")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_dispatch_console_and_board(
    desktop: Any, phone: Any, scheme: str, on_shift_a: Any, dispatcher: Any, supervisor: Any
) -> None:
    from playwright.sync_api import expect

    from apps.incidents import services
    from apps.incidents.models import Assignment

    in_thread(
        services.incident_create,
        by=dispatcher,
        values={"call_type_code": "WELFARE", "priority": 3, "address": "1 Main St", "substances_involved": True},
    )
    hot = in_thread(
        services.incident_create,
        by=dispatcher,
        values={"call_type_code": "SUICTHRT", "priority": 8, "address": "2 Main St", "weapon_present": True},
    )
    in_thread(services.assignment_offer, incident_id=hot.pk, team_id=on_shift_a.team_id, by=dispatcher)

    page = desktop(color_scheme=scheme).new_page()
    sign_in(page, dispatcher.username)
    page.wait_for_url("**/dispatch")
    expect(page.locator(".incident-row")).to_have_count(2, timeout=LIVE)
    check(page, f"dispatch-list-{scheme}")

    # An escalation from the delivery engine (no device of the team saw the offer) → banner.
    assignment = Assignment.objects.get()
    in_thread(
        emit_in_transaction,
        type="delivery.alert",
        recipients=[dispatcher],
        data={
            "subject": f"assignment:{assignment.pk}",
            "team": "CR-A",
            "stage": "alert",
            "offered_at": "2026-01-01T00:00:00Z",
            "delivered": False,
            "fired_at": "2026-01-01T00:01:00Z",
        },
    )
    banner = page.locator(".escalations")
    expect(banner).to_contain_text("Team CR-A", timeout=LIVE)
    expect(banner).to_contain_text("call the team or reassign")
    expect(banner).to_have_attribute("role", "alert")
    check(page, f"dispatch-escalation-{scheme}")
    banner.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name="Incident #")).to_contain_text("SUICTHRT", timeout=LIVE)
    page.locator(".incident-row", has_text="SUICTHRT").click()
    expect(page.get_by_test_id("assignment-status")).to_be_visible(timeout=LIVE)
    page.get_by_role("button", name="New incident").click()
    page.get_by_role("button", name="Create incident").click()
    expect(page.get_by_label("Address")).to_have_attribute("aria-invalid", "true")
    check(page, f"dispatch-detail-form-{scheme}")

    page.locator(".incident-row", has_text="WELFARE").click()
    page.get_by_role("button", name="Save triage").click()
    expect(page.get_by_text("Choose whether the call is eligible.")).to_be_visible(timeout=LIVE)
    check(page, f"dispatch-triage-{scheme}")

    small = phone(color_scheme=scheme).new_page()
    sign_in(small, dispatcher.username)
    small.wait_for_url("**/dispatch")
    expect(small.locator(".incident-row")).to_have_count(2, timeout=LIVE)
    check(small, f"dispatch-phone-{scheme}")

    board = phone(color_scheme=scheme).new_page()
    sign_in(board, supervisor.username)
    board.wait_for_url("**/board")
    expect(board.locator(".board-table")).to_contain_text("CR-A", timeout=LIVE)
    check(board, f"board-{scheme}")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_clinical_screens_encounter_and_followups(phone: Any, on_shift_a: Any, clinician_a: Any, scheme: str) -> None:
    page = phone(color_scheme=scheme).new_page()
    sign_in(page, clinician_a.username)
    page.wait_for_url("**/team")
    page.goto("/encounters/new")
    page.wait_for_url("**/encounters/*-*")
    page.get_by_role("radiogroup", name="1. In the past month, have you wished").wait_for()
    check(page, f"encounter-{scheme}")
    page.goto("/followups")
    page.get_by_role("heading", name="Follow-ups").first.wait_for()
    check(page, f"followups-{scheme}")
