"""An officer on the team never sees the clinician's narrative: not on the page, not in any HTTP
response or WebSocket frame their browser receives, on team home, assignment or the officer section."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from apps.clinical.models import OfficerSection

from .clinical_helpers import api_write, assert_accessible
from .conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MARKER = "NARRATIVE-MARKER-7f3a"


def test_officer_pages_never_carry_the_narrative(
    phone: Any, api: Any, on_shift_a: Any, clinician_a: Any, officer_a: Any, dispatcher: Any
) -> None:
    from apps.incidents.services import assignment_accept, assignment_offer, incident_create

    incident = incident_create(
        by=dispatcher, values={"call_type_code": "SUICTHRT", "priority": 8, "address": "9 Elm St"}
    )
    offer = assignment_offer(incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
    assignment_accept(assignment_id=offer.pk, by=officer_a)  # the officer's current incident

    clin = api(clinician_a)
    person = api_write(clin, "post", "/api/v1/clinical/persons/", {"first_name": "Riley", "last_name": "Subject"})
    eid = str(uuid.uuid4())
    api_write(
        clin,
        "post",
        "/api/v1/clinical/encounters/",
        {
            "id": eid,
            "kind": "incident",
            "incident_id": incident.pk,
            "team_id": on_shift_a.team_id,
            "officer_id": officer_a.pk,
            "person_id": person["id"],
        },
    )
    api_write(
        clin,
        "post",
        f"/api/v1/clinical/encounters/{eid}/notes/",
        {
            "id": str(uuid.uuid4()),
            "format": "soap",
            "sections": {"subjective": f"Said {MARKER} twice.", "plan": MARKER},
        },
    )
    # Sanity: the marker is really there for the clinician.
    assert MARKER in clin.get(f"/api/v1/clinical/encounters/{eid}/", HTTP_HOST="127.0.0.1").content.decode()

    context = phone()
    bodies: list[tuple[str, str]] = []
    frames: list[str] = []

    def on_response(response: Any) -> None:
        try:
            bodies.append((response.url, response.text()))
        except Exception:
            bodies.append((response.url, ""))

    def on_socket(ws: Any) -> None:
        ws.on("framereceived", lambda payload: frames.append(payload if isinstance(payload, str) else payload.decode()))

    page = context.new_page()
    page.on("response", on_response)
    page.on("websocket", on_socket)
    from .auth import sign_in

    sign_in(page, officer_a.username)
    page.wait_for_url("**/team")
    page.get_by_text("CR-A").first.wait_for()
    page.wait_for_timeout(1000)  # team home with the assignment loaded
    pages = [page.content()]

    page.get_by_role("link", name="Encounters").click()
    page.wait_for_url("**/encounters")
    page.get_by_text("Riley Subject").first.wait_for()
    pages.append(page.content())

    page.get_by_text("Riley Subject").first.click()
    page.wait_for_url(f"**/encounters/{eid}/officer")
    page.get_by_role("heading", name="Officer section").wait_for()
    pages.append(page.content())
    page.get_by_label("Transport", exact=True).select_option("ems")
    page.get_by_label("Transport destination").fill("Duke Regional ED")
    page.get_by_role("button", name="Save officer section").click()
    page.get_by_text("Saved.", exact=True).wait_for(timeout=30_000)
    screenshot(page, "officer-section")
    assert_accessible(page)
    pages.append(page.content())

    # The officer's write landed, in the officer's own record.
    section = OfficerSection.objects.get(encounter_id=eid)
    assert section.transport == "ems" and section.transport_destination == "Duke Regional ED"

    # The test looked at the encounter through the officer's eyes...
    assert any(f"/api/v1/clinical/encounters/{eid}/" in url for url, _ in bodies)
    # ...and the narrative never reached the browser.
    for html in pages:
        assert MARKER not in html
    for url, text in bodies:
        assert MARKER not in text, url
    for frame in frames:
        assert MARKER not in frame
