"""A clinician documents and signs an encounter with no network, reloads while still offline, and
everything reaches the server exactly once when the phone is back online. A follow-up attempt logged
offline is sent the same way."""

from __future__ import annotations

from typing import Any

import pytest

from apps.clinical.models import ClinicalNote, CssrsScreen, Encounter, Person
from apps.referrals.models import Agency, FollowUp, FollowUpAttempt, Referral

from .clinical_helpers import answer, assert_accessible, signed_in_page, wait_for_service_worker
from .conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def incident(dispatcher: Any) -> Any:
    from apps.incidents.services import incident_create

    return incident_create(by=dispatcher, values={"call_type_code": "SUICTHRT", "priority": 8, "address": "1 Main St"})


@pytest.fixture
def agency() -> Agency:
    return Agency.objects.create(name="Durham Peer Network", type="peer_support", phone="919-555-0100")


def test_offline_encounter_signs_and_syncs_once(
    phone: Any, on_shift_a: Any, clinician_a: Any, officer_a: Any, incident: Any, agency: Agency
) -> None:
    context = phone()
    page = signed_in_page(context, clinician_a.username)
    wait_for_service_worker(page)
    # Loaded once online: the encounter list (which also keeps the agency directory on the device).
    page.get_by_role("link", name="Encounters").click()
    page.wait_for_url("**/encounters")
    page.get_by_role("heading", name="Open encounters").wait_for()
    page.wait_for_timeout(1000)

    context.set_offline(True)
    page.goto(f"/encounters/new?incident={incident.pk}")  # served by the service worker
    page.wait_for_url("**/encounters/*-*")
    encounter_id = page.url.rstrip("/").split("/")[-1]
    page.get_by_role("heading", name=f"Encounter · incident {incident.pk}").wait_for()

    page.get_by_label("First name").fill("Robin")
    page.get_by_label("Last name").fill("Offline")
    page.get_by_role("button", name="Create person").click()
    page.get_by_text("new record").wait_for()

    page.get_by_label("Subjective", exact=True).fill("Reports feeling hopeless since losing housing.")
    page.get_by_label("Objective").fill("Calm, oriented, tearful.")
    page.get_by_label("Assessment").fill("Passive ideation, no plan.")
    page.get_by_label("Plan", exact=True).fill("Peer support referral; follow-up in 48 h.")

    answer(page, "1. In the past month, have you wished", True)
    answer(page, "2. In the past month, have you had any actual thoughts", False)
    # 2 is no: 3–5 are skipped, 6 is asked.
    assert page.get_by_role("radiogroup", name="3. Have you been thinking").count() == 0
    answer(page, "6. Have you ever done anything", False)
    assert page.get_by_role("radiogroup", name="6a. Was this within").count() == 0
    page.get_by_text("Risk (computed on this device):").wait_for()
    assert "Low risk" in page.locator(".risk-box").inner_text()

    page.get_by_label("1. Warning signs").fill("Not sleeping, isolating.")
    page.get_by_label("Referral type").select_option("peer_support")
    page.get_by_label("Agency", exact=True).select_option(label=agency.name)
    page.get_by_role("button", name="Add referral").click()
    page.get_by_text("Peer support · Durham Peer Network").wait_for()
    page.get_by_label("Resolved with referral").check()
    screenshot(page, "encounter-cssrs-offline")
    assert_accessible(page)

    page.get_by_role("button", name="Sign note").click()
    page.get_by_test_id("encounter-sync").filter(has_text="waiting for the network").wait_for()
    assert Encounter.objects.count() == 0  # nothing reached the server

    # Reload with no network: the worker serves the shell; draft and outbox come from IndexedDB.
    page.reload()
    page.get_by_role("heading", name=f"Encounter · incident {incident.pk}").wait_for()
    assert page.get_by_label("Subjective", exact=True).input_value() == "Reports feeling hopeless since losing housing."
    page.get_by_test_id("encounter-sync").filter(has_text="waiting for the network").wait_for()
    page.get_by_text("saved on this device, will send when back online").wait_for()

    context.set_offline(False)
    page.get_by_test_id("encounter-sync").filter(has_text="Synced with the server. Note signed.").wait_for(
        timeout=30_000
    )
    page.get_by_text("All changes synced").wait_for(timeout=30_000)

    enc = Encounter.objects.get()
    assert str(enc.pk) == encounter_id and enc.incident_id == incident.pk and enc.clinician_id == clinician_a.pk
    assert enc.officer_id == officer_a.pk and enc.team_id == on_shift_a.team_id
    note = ClinicalNote.objects.get()
    assert note.status == ClinicalNote.Status.SIGNED and note.encounter_id == enc.pk
    assert note.sections["subjective"] == "Reports feeling hopeless since losing housing."
    assert CssrsScreen.objects.get().computed_risk == "low"
    referral = Referral.objects.get()
    assert referral.agency_id == agency.pk and referral.encounter_id == enc.pk
    assert Person.objects.get().last_name == "Offline"
    assert enc.risk_level == "low"
    # The server's risk is shown next to the device's.
    page.get_by_text("Risk recorded by the server:").wait_for()
    # The assignment's "Encounter" link again: the same encounter, not a second one.
    page.goto(f"/encounters/new?incident={incident.pk}")
    page.wait_for_url(f"**/encounters/{encounter_id}")
    assert Encounter.objects.count() == 1


def test_followup_attempt_in_two_taps_offline(
    phone: Any, on_shift_a: Any, clinician_a: Any, api: Any, agency: Agency
) -> None:
    from .clinical_helpers import api_write

    client = api(clinician_a)
    import uuid

    person = api_write(
        client,
        "post",
        "/api/v1/clinical/persons/",
        {"first_name": "Casey", "last_name": "Follow", "phone": "919-555-0199"},
    )
    eid = str(uuid.uuid4())
    api_write(client, "post", "/api/v1/clinical/encounters/", {"id": eid, "kind": "walk_in", "person_id": person["id"]})
    api_write(client, "post", f"/api/v1/encounters/{eid}/referrals/", {"type": "peer_support", "agency_id": agency.pk})
    followup = FollowUp.objects.get()
    assert followup.assignee_id == clinician_a.pk  # no care navigator: the referring clinician

    context = phone()
    page = signed_in_page(context, clinician_a.username)
    wait_for_service_worker(page)
    page.get_by_role("link", name="Follow-ups").click()
    page.wait_for_url("**/followups")
    item = page.locator(f"[data-followup='{followup.pk}']")
    item.get_by_text("Casey Follow").wait_for()
    screenshot(page, "followups")
    assert_accessible(page)

    context.set_offline(True)
    item.get_by_role("button", name="Log attempt for Casey Follow").click()  # tap 1
    item.get_by_role("button", name="No answer").click()  # tap 2
    item.get_by_text("Follow-up attempt: no answer: saved, sending").wait_for()
    assert FollowUpAttempt.objects.count() == 0

    context.set_offline(False)
    page.get_by_text("All changes synced").wait_for(timeout=30_000)
    attempt = FollowUpAttempt.objects.get()
    assert attempt.method == "phone" and attempt.outcome == "no_answer" and attempt.by_id == clinician_a.pk
    followup.refresh_from_db()
    assert followup.failed_attempts == 1


def test_high_risk_sign_is_blocked_with_what_is_missing_then_signs(
    phone: Any, on_shift_a: Any, clinician_a: Any
) -> None:
    page = signed_in_page(phone(), clinician_a.username)
    page.goto("/encounters/new")
    page.wait_for_url("**/encounters/*-*")
    for label in ("Subjective", "Objective", "Assessment", "Plan"):
        page.get_by_label(label, exact=True).fill(f"{label} text.")
    answer(page, "1. In the past month, have you wished", True)
    answer(page, "2. In the past month, have you had any actual thoughts", True)
    answer(page, "3. Have you been thinking", False)
    answer(page, "4. Have you had these thoughts", True)
    answer(page, "5. Have you started to work out", False)
    answer(page, "6. Have you ever done anything", False)
    assert "High risk" in page.locator(".risk-box").inner_text()

    # The one rule (generated from the server): Sign is disabled, with what is missing in words.
    sign = page.get_by_role("button", name="Sign note")
    assert sign.is_disabled()
    missing = page.get_by_test_id("sign-missing")
    assert missing.locator("li").all_inner_texts() == [
        "High risk: confirm “Lethal means addressed”",
        "High risk: confirm “Person not left alone”",
        "High risk: confirm “Supervisor notified”",
        "High risk: confirm “Safety plan reviewed”",
        "High risk: record a disposition decision",
    ]
    page.get_by_label("Lethal means addressed").check()
    assert "High risk: confirm “Lethal means addressed”" not in missing.inner_text()

    # The name became known only now: the saved encounter gets the person linked (based on its revision).
    page.get_by_label("First name").fill("Avery")
    page.get_by_label("Last name").fill("Risk")
    page.get_by_role("button", name="Create person").click()
    for label in ("Person not left alone", "Supervisor notified", "Safety plan reviewed"):
        page.get_by_label(label).check()
    page.get_by_label("Voluntary transport to ED").check()
    # Program rule: an outcome that contradicts a chosen one cannot be chosen as well.
    assert page.get_by_label("Resolved on scene").is_disabled()
    assert page.get_by_label("Voluntary transport to crisis facility").is_disabled()
    page.get_by_text("Not with “Voluntary transport to ED”: a voluntary transport has one destination.").wait_for()
    assert page.get_by_label("EMS transport").is_enabled()
    page.get_by_text("Everything needed to sign is there.").wait_for()
    page.get_by_role("button", name="Sign note").click()
    page.get_by_test_id("encounter-sync").filter(has_text="Note signed.").wait_for(timeout=30_000)
    page.get_by_test_id("note-signed").filter(has_text="Signed by Claire Test").wait_for()
    note = ClinicalNote.objects.get()
    assert note.status == ClinicalNote.Status.SIGNED
    assert all(note.safety_precautions.values()) and len(note.safety_precautions) == 4
    assert Encounter.objects.get().person.last_name == "Risk"  # type: ignore[union-attr]
    # A signed note shows no Save that does nothing, and the printable view instead of Sign.
    assert page.get_by_role("button", name="Saved").is_disabled()
    assert page.get_by_role("link", name="Printable view").is_visible()


CACHE_KEYS_JS = """() => new Promise((resolve) => {
    const r = indexedDB.open("coresponse");
    r.onsuccess = () => {
        const q = r.result.transaction("cache").objectStore("cache").getAll();
        q.onsuccess = () => resolve(q.result.map((row) => row.key));
    };
})"""


def test_sign_out_asks_before_deleting_an_unsent_draft(phone: Any, on_shift_a: Any, clinician_a: Any) -> None:
    page = signed_in_page(phone(), clinician_a.username)
    page.goto("/encounters/new")
    page.wait_for_url("**/encounters/*-*")
    page.get_by_label("Subjective", exact=True).fill("Not saved to the server yet.")
    page.wait_for_timeout(300)  # let the autosave land
    assert any(k.startswith("draft:") for k in page.evaluate(CACHE_KEYS_JS))

    page.get_by_role("button", name="Sign out").click()
    dialog = page.get_by_role("dialog", name="Changes not sent yet")
    dialog.wait_for()
    assert "1 change has not reached the server" in dialog.inner_text()
    dialog.get_by_role("button", name="Keep waiting").click()
    assert page.get_by_label("Subjective", exact=True).input_value() == "Not saved to the server yet."

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("dialog", name="Changes not sent yet").get_by_role("button", name="Discard and sign out").click()
    page.get_by_label("Username").wait_for()
    # Health information cached on the device is gone: no draft, no last-seen data, no cache rows.
    assert page.evaluate(CACHE_KEYS_JS) == []
    assert Encounter.objects.count() == 0


def test_revoked_session_removes_cached_health_information(phone: Any, on_shift_a: Any, clinician_a: Any) -> None:
    from django.contrib.sessions.models import Session

    page = signed_in_page(phone(), clinician_a.username)
    page.goto("/encounters/new")
    page.wait_for_url("**/encounters/*-*")
    page.get_by_label("Subjective", exact=True).fill("Cached on the phone.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_test_id("encounter-sync").filter(has_text="Synced with the server.").wait_for(timeout=30_000)
    keys = page.evaluate(CACHE_KEYS_JS)
    assert any(k.startswith("draft:") for k in keys) and any(k.startswith("encounter:") for k in keys)

    Session.objects.all().delete()  # an administrator revokes the device's session while the app is closed
    page.reload()
    page.get_by_text("Your session has ended. Please sign in again.").wait_for()
    assert page.evaluate(CACHE_KEYS_JS) == []
