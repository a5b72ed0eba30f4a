"""The same clinician edits one draft note on two phones. The second save is refused (409), the
phone shows both versions side by side, and the person's choice is what the server ends up holding."""

from __future__ import annotations

from typing import Any

import pytest

from apps.clinical.models import ClinicalNote

from .clinical_helpers import assert_accessible, signed_in_page
from .conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ORIGINAL = "Original subjective text."
MINE = "Phone A: agitated, pacing, asked for water."
THEIRS = "Phone B: calm after de-escalation."


def subjective(page: Any) -> Any:
    return page.get_by_label("Subjective", exact=True)


def sync_status(page: Any, text: str) -> None:
    page.get_by_test_id("encounter-sync").filter(has_text=text).wait_for(timeout=30_000)


@pytest.mark.parametrize("choice", ["mine", "server"])
def test_conflicting_edit_shows_both_versions_and_keeps_the_chosen_one(
    phone: Any, on_shift_a: Any, clinician_a: Any, choice: str
) -> None:
    # Phone A starts a walk-in encounter and saves the first version of the note.
    a = signed_in_page(phone(), clinician_a.username)
    a.goto("/encounters/new")
    a.wait_for_url("**/encounters/*-*")
    encounter_id = a.url.rstrip("/").split("/")[-1]
    subjective(a).fill(ORIGINAL)
    a.get_by_role("button", name="Save", exact=True).click()
    sync_status(a, "Synced with the server.")
    note = ClinicalNote.objects.get()
    assert note.revision == 1 and note.sections["subjective"] == ORIGINAL

    # Phone A edits (kept on the device, not saved yet).
    subjective(a).fill(MINE)

    # Phone B (same clinician) opens the same encounter from the server, edits and saves first.
    b = signed_in_page(phone(), clinician_a.username)
    b.goto(f"/encounters/{encounter_id}")
    subjective(b).wait_for()
    assert subjective(b).input_value() == ORIGINAL
    subjective(b).fill(THEIRS)
    b.get_by_role("button", name="Save", exact=True).click()
    sync_status(b, "Synced with the server.")
    note.refresh_from_db()
    assert note.revision == 2 and note.sections["subjective"] == THEIRS

    # Phone A saves its edit, based on revision 1: refused, and shown side by side.
    a.get_by_role("button", name="Save", exact=True).click()
    conflict = a.locator("section.conflict")
    conflict.wait_for(timeout=30_000)
    row = conflict.locator("[data-section='subjective']")
    assert row.locator("[data-version='mine']").inner_text() == MINE
    assert row.locator("[data-version='server']").inner_text() == THEIRS
    screenshot(a, f"conflict-view-{choice}")
    assert_accessible(a)
    # Nothing was overwritten while the person decides.
    note.refresh_from_db()
    assert note.sections["subjective"] == THEIRS and note.revision == 2

    if choice == "mine":
        conflict.get_by_role("button", name="Keep mine").click()
        sync_status(a, "Synced with the server.")
        a.locator("section.conflict").wait_for(state="detached")
        note.refresh_from_db()
        assert note.sections["subjective"] == MINE
        assert note.revision == 3  # re-sent as an edit of the server's revision 2
    else:
        conflict.get_by_role("button", name="Take the server's").click()
        a.locator("section.conflict").wait_for(state="detached")
        assert subjective(a).input_value() == THEIRS
        sync_status(a, "Synced with the server.")
        note.refresh_from_db()
        assert note.sections["subjective"] == THEIRS and note.revision == 2
    # The refused write is gone from the outbox (nothing left to review).
    assert a.locator(".banner-rejected").count() == 0
