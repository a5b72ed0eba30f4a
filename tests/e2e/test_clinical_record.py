"""The clinical record tells the truth on every screen and every device (issue 14).

Device A (the clinician's phone) writes every section of an encounter; a second phone of the same
clinician and the care navigator then open it and must see every saved value, not just a page that
loads. One run works offline on device A while the second phone changes the risk: the server refuses
A's signature when A is back online, A's note returns to draft with the reasons in words, and once
fixed and signed no stale rejection is left anywhere. Closing, addenda, co-signing and the printable
record are used from the app. Screenshots go to tests/e2e/artifacts/."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.clinical.models import ClinicalNote, Encounter, OfficerSection
from apps.referrals.models import Agency, FollowUp, FollowUpAttempt
from apps.reminders.models import Reminder

from .auth import sign_in
from .clinical_helpers import (
    answer,
    api_write,
    assert_accessible,
    record_screenshot,
    signed_in_page,
    wait_for_service_worker,
)
from .conftest import ARTIFACTS, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TZ = "America/New_York"
SOAP = {
    "Subjective": "Says he cannot go on since the eviction notice.",
    "Objective": "Tearful, oriented x3, knife on the table.",
    "Assessment": "Acute suicidal ideation with intent; high risk.",
    "Plan": "Voluntary ED evaluation; peer support referral.",
}
PLAN = {
    "1. Warning signs": "Not sleeping; giving things away.",
    "2. Internal coping strategies": "Walks with the dog; breathing app.",
    "3. People and social settings that provide distraction": "Cousin Dee; the barber shop.",
    "4. People I can ask for help": "Sister Tanya 919-555-0188.",
    "5. Professionals or agencies I can contact during a crisis": "988; Durham Peer Network.",
    "6. Making the environment safe": "Knife and pills left with Tanya.",
}
REFERRAL_NOTES = "Call after 2 pm; intake Tuesday at 10."
PRECAUTIONS = ("Lethal means addressed", "Person not left alone", "Supervisor notified", "Safety plan reviewed")


@pytest.fixture
def care_navigator(make_user: Any) -> Any:
    return make_user("navigator", "care_navigator", first="Nina", last="Jones")


@pytest.fixture
def clinical_supervisor(make_user: Any) -> Any:
    return make_user("clinsup", "clinical_supervisor", first="Sam", last="Irwin")


@pytest.fixture
def agency() -> Agency:
    return Agency.objects.create(name="Durham Peer Network", type="peer_support", phone="919-555-0100")


def sync_status(page: Any, text: str) -> None:
    page.get_by_test_id("encounter-sync").filter(has_text=text).wait_for(timeout=30_000)


def local_input(moment: dt.datetime) -> str:
    """What <input type=datetime-local> shows for ``moment`` on a phone in the program's zone."""
    return moment.astimezone(ZoneInfo(TZ)).strftime("%Y-%m-%dT%H:%M")


def high_risk_screen(page: Any) -> None:
    answer(page, "1. In the past month, have you wished", True)
    answer(page, "2. In the past month, have you had any actual thoughts", True)
    answer(page, "3. Have you been thinking", False)
    answer(page, "4. Have you had these thoughts", True)
    answer(page, "5. Have you started to work out", False)
    answer(page, "6. Have you ever done anything", False)


def write_every_section(page: Any, agency: Agency, custody: str) -> None:
    page.get_by_label("First name").fill("Robin")
    page.get_by_label("Last name").fill("Lee")
    page.get_by_role("button", name="Create person").click()
    page.get_by_label("Phone", exact=True).fill("919-555-0142")
    page.get_by_label("Preferred contact").select_option("text")
    page.get_by_label("Consent to be contacted").select_option("yes")
    for label, text in SOAP.items():
        page.get_by_label(label, exact=True).fill(text)
    high_risk_screen(page)
    for label in PRECAUTIONS:
        page.get_by_label(label).check()
    for label, text in PLAN.items():
        page.get_by_label(label).fill(text)
    page.get_by_label("Lethal means counselling done").check()
    page.get_by_label("Voluntary transport to ED").check()
    page.get_by_label("Referral type").select_option("peer_support")
    page.get_by_label("Agency", exact=True).select_option(label=agency.name)
    page.get_by_label("Referral notes").fill(REFERRAL_NOTES)
    page.get_by_role("button", name="Add referral").click()
    page.get_by_label("IVC on this encounter").check()
    page.get_by_label("Pathway").select_option("emergency_122c_262")
    page.get_by_label("Custody taken").fill(custody)


def assert_every_saved_value(page: Any, agency: Agency, custody: str, *, officer: bool = True) -> None:
    """Everything device A saved, as this page shows it."""
    page.get_by_text("Robin Lee").first.wait_for()
    assert page.get_by_label("Phone", exact=True).input_value() == "919-555-0142"
    assert page.get_by_label("Preferred contact").input_value() == "text"
    assert page.get_by_label("Consent to be contacted").input_value() == "yes"
    for label, text in SOAP.items():
        assert page.get_by_label(label, exact=True).input_value() == text, label
    for question, yes in (
        ("1. In the past month", True),
        ("4. Have you had these thoughts", True),
        ("5. Have you started", False),
    ):
        group = page.get_by_role("radiogroup", name=question)
        assert group.get_by_label("Yes" if yes else "No", exact=True).is_checked(), question
    assert "High risk" in page.locator(".risk-box").inner_text()
    for label in PRECAUTIONS:
        assert page.get_by_label(label).is_checked(), label
    for label, text in PLAN.items():
        assert page.get_by_label(label).input_value() == text, label
    assert page.get_by_label("Lethal means counselling done").is_checked()
    assert page.get_by_label("Voluntary transport to ED").is_checked()
    referral = page.locator("[data-referral]")
    assert referral.count() == 1
    text = referral.inner_text()
    assert "Peer support" in text and agency.name in text and REFERRAL_NOTES in text and "919-555-0100" in text
    assert page.get_by_label("IVC on this encounter").is_checked()
    assert page.get_by_label("Pathway").input_value() == "emergency_122c_262"
    assert page.get_by_label("Custody taken").input_value() == custody
    if officer:
        facts = page.locator(".officer-facts").inner_text()
        assert "EMS" in facts and "Duke Regional ED" in facts
    page.get_by_test_id("note-signed").filter(has_text="Signed by Claire Test").wait_for()
    assert "Recalled after leaving" in page.locator(".addenda").inner_text()
    # Nothing the record already has is asked for again.
    assert "Still to do" not in page.locator("section[aria-labelledby='cssrs-title']").inner_text()


def test_every_saved_value_reaches_a_second_phone_and_the_navigator(
    phone: Any, api: Any, on_shift_a: Any, clinician_a: Any, officer_a: Any, care_navigator: Any, agency: Agency
) -> None:
    custody = local_input(timezone.now() - dt.timedelta(hours=1))
    a = signed_in_page(phone(timezone_id=TZ), clinician_a.username)
    a.goto("/encounters/new")
    a.wait_for_url("**/encounters/*-*")
    eid = a.url.rstrip("/").split("/")[-1]
    write_every_section(a, agency, custody)
    a.get_by_text("Everything needed to sign is there.").wait_for()
    a.get_by_role("button", name="Sign note").click()
    sync_status(a, "Synced with the server. Note signed.")
    # An addendum on the signed note, from the app.
    a.get_by_label("Kind").select_option("late_entry")
    a.get_by_label("Reason", exact=True).fill("Recalled after leaving the scene")
    a.get_by_label("Text", exact=True).fill("Sister Tanya called back: she will stay overnight.")
    a.get_by_role("button", name="Add addendum").click()
    a.locator(".addenda").get_by_text("Recalled after leaving").wait_for()
    sync_status(a, "Synced with the server. Note signed.")

    # The officer writes their section on their own phone.
    o = signed_in_page(phone(timezone_id=TZ), officer_a.username)
    o.goto(f"/encounters/{eid}/officer")
    o.get_by_label("Transport", exact=True).select_option("ems")
    o.get_by_label("Transport destination").fill("Duke Regional ED")
    o.get_by_role("button", name="Save").click()
    o.get_by_text("Saved").first.wait_for(timeout=30_000)
    for _ in range(60):
        if OfficerSection.objects.filter(encounter_id=eid).exists():
            break
        o.wait_for_timeout(500)
    assert OfficerSection.objects.get(encounter_id=eid).transport == "ems"

    # The server holds all of it.
    enc = Encounter.objects.get(pk=eid)
    note = ClinicalNote.objects.get(encounter=enc)
    assert note.status == "signed" and note.addenda.count() == 1
    assert enc.person is not None and enc.person.phone == "919-555-0142" and enc.person.contact_consent == "yes"
    assert enc.safety_plans.get().lethal_means_counselling_done is True
    assert enc.ivc.pathway == "emergency_122c_262"

    # A second phone of the same clinician: every saved value is there.
    b = signed_in_page(phone(timezone_id=TZ), clinician_a.username)
    b.goto(f"/encounters/{eid}")
    assert_every_saved_value(b, agency, custody)
    assert b.get_by_role("button", name="Saved").is_disabled()  # a signed note has no Save that does nothing
    record_screenshot(b, "record-second-device")
    assert_accessible(b)

    # The care navigator: the follow-up card says whom to call, the referral and its notes.
    n = signed_in_page(phone(timezone_id=TZ), care_navigator.username, landing="**/followups")
    followup = FollowUp.objects.get(referral__encounter_id=eid)
    card = n.locator(f"[data-followup='{followup.pk}']")
    card.get_by_role("heading", name="Robin Lee").wait_for()
    call = card.get_by_role("link", name="Text 919-555-0142")
    assert call.get_attribute("href") == "sms:919-555-0142"
    contact = card.get_by_test_id("fu-contact").inner_text()
    assert "Prefers: Text message" in contact and "Consent: Agrees to be contacted" in contact
    card_text = card.inner_text()
    assert REFERRAL_NOTES in card_text and agency.name in card_text and "919-555-0100" in card_text
    assert "None yet." in card_text
    card.get_by_role("button", name="Log attempt for Robin Lee").click()
    card.get_by_text("and note").click()
    card.get_by_label("Note").fill("Left a text, no reply yet.")
    card.get_by_role("button", name="No answer").click()
    card.locator(".fu-attempts li").filter(has_text="No answer").wait_for(timeout=30_000)
    assert "Left a text, no reply yet." in card.locator(".fu-attempts").inner_text()
    attempt = FollowUpAttempt.objects.get()
    assert attempt.method == "text" and attempt.outcome == "no_answer"  # the method follows the preference
    screenshot(n, "followup-card")
    assert_accessible(n)
    # ... and the encounter itself, with every saved value.
    n.goto(f"/encounters/{eid}")
    assert_every_saved_value(n, agency, custody)


def test_offline_sign_refused_by_the_server_returns_the_note_to_draft_with_reasons(
    phone: Any, on_shift_a: Any, clinician_a: Any
) -> None:
    from playwright.sync_api import expect

    a_ctx = phone(timezone_id=TZ)
    a = signed_in_page(a_ctx, clinician_a.username)
    wait_for_service_worker(a)
    a.goto("/encounters/new")
    a.wait_for_url("**/encounters/*-*")
    eid = a.url.rstrip("/").split("/")[-1]
    a.get_by_label("Subjective", exact=True).fill("Started on scene.")
    a.get_by_role("button", name="Save", exact=True).click()
    sync_status(a, "Synced with the server.")

    # Device A loses the network and finishes the note: by what A knows, it is ready to sign.
    a_ctx.set_offline(True)
    for label, text in SOAP.items():
        a.get_by_label(label, exact=True).fill(text)
    a.get_by_text("Everything needed to sign is there.").wait_for()
    a.get_by_role("button", name="Sign note").click()
    sync_status(a, "waiting for the network (signature included)")
    # Never "Signed" for a note the server has not accepted.
    assert a.get_by_test_id("note-signed").count() == 0
    assert a.get_by_role("button", name="Signing…").is_disabled()
    a.get_by_text("Signature waiting for the server").wait_for()

    # Meanwhile the clinician's second phone records a high-risk screen on the same encounter.
    b = signed_in_page(phone(timezone_id=TZ), clinician_a.username)
    b.goto(f"/encounters/{eid}")
    b.get_by_label("Subjective", exact=True).wait_for()
    high_risk_screen(b)
    b.get_by_role("button", name="Save", exact=True).click()
    sync_status(b, "Synced with the server.")
    assert Encounter.objects.get(pk=eid).risk_level == "high"

    # A is back online: the server refuses the signature. The note is a draft again, with reasons in words.
    a_ctx.set_offline(False)
    refused = a.locator(".sign-refused")
    refused.wait_for(timeout=30_000)
    text = refused.inner_text()
    assert "The server did not sign the note." in text and "It is a draft again." in text
    assert "Safety precautions: High risk: confirm “Lethal means addressed”." in text
    assert "Disposition: High risk: record a disposition decision." in text
    assert "lethal_means_addressed" not in text  # never raw keys
    sync_status(a, "The server did not sign the note. See why under “Signing”.")
    assert ClinicalNote.objects.get(encounter_id=eid).status == "draft"
    assert a.get_by_test_id("note-signed").count() == 0
    # A draft again: editable (once the refetched server state is merged, a moment after the status line).
    expect(a.get_by_label("Plan", exact=True)).to_be_editable(timeout=10_000)
    # The second phone's screen is merged in: high risk, and the rule lists what is missing now.
    a.locator(".risk-box").filter(has_text="High risk").wait_for(timeout=30_000)
    assert (
        a.get_by_role("radiogroup", name="4. Have you had these thoughts").get_by_label("Yes", exact=True).is_checked()
    )
    missing = a.get_by_test_id("sign-missing").locator("li").all_inner_texts()
    assert missing[-1] == "High risk: record a disposition decision" and len(missing) == 5
    assert a.get_by_role("button", name="Sign note").is_disabled()
    record_screenshot(a, "sign-refused-back-to-draft")

    # Fixed, signed: the refusal is settled everywhere (screen, header banner, outbox), also after a reload.
    for label in PRECAUTIONS:
        a.get_by_label(label).check()
    a.get_by_label("Voluntary transport to ED").check()
    a.get_by_role("button", name="Sign note").click()
    sync_status(a, "Synced with the server. Note signed.")
    assert ClinicalNote.objects.get(encounter_id=eid).status == "signed"
    assert a.locator(".sign-refused").count() == 0 and a.locator(".banner-rejected").count() == 0
    a.reload()
    sync_status(a, "Synced with the server. Note signed.")
    assert a.locator(".banner-rejected").count() == 0 and a.get_by_text("not accepted").count() == 0
    a.goto("/outbox")
    a.get_by_role("heading", name="Changes on this device").wait_for()
    a.get_by_text("Everything has been sent.").wait_for()


def test_closing_from_the_app_starts_the_unsigned_note_reminder_and_leaves_the_open_list(
    phone: Any, on_shift_a: Any, clinician_a: Any
) -> None:
    page = signed_in_page(phone(timezone_id=TZ), clinician_a.username)
    page.goto("/encounters/new")
    page.wait_for_url("**/encounters/*-*")
    eid = page.url.rstrip("/").split("/")[-1]
    page.get_by_label("Subjective", exact=True).fill("Walk-in, calm.")
    page.get_by_role("button", name="Save", exact=True).click()
    sync_status(page, "Synced with the server.")
    page.get_by_role("button", name="Close encounter…").click()
    page.get_by_text("The note is not signed yet: you will be reminded to sign it.").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Close now").click()
    page.get_by_test_id("encounter-closed").wait_for()
    sync_status(page, "Synced with the server.")
    enc = Encounter.objects.get(pk=eid)
    assert enc.closed_at is not None and enc.closed_at <= timezone.now()
    assert Reminder.objects.filter(subject_id=str(ClinicalNote.objects.get().pk), status="scheduled").exists()
    assert "not confirmed" not in page.get_by_test_id("encounter-closed").inner_text()
    page.goto("/encounters")
    page.get_by_role("heading", name="Closed recently").wait_for()
    # Listed once, as closed: no longer among the open encounters nor the drafts on this device.
    links = page.locator(f"a[href='/encounters/{eid}']")
    assert links.count() == 1 and "closed" in links.inner_text()


def test_addenda_cosign_and_the_printable_record_for_each_reader(
    phone: Any, api: Any, on_shift_a: Any, clinician_a: Any, clinical_supervisor: Any
) -> None:
    import uuid

    from apps.clinical.tests.conftest import grant_part2

    writer = api(grant_part2(clinician_a))
    person = api_write(writer, "post", "/api/v1/clinical/persons/", {"first_name": "Jordan", "last_name": "Rivers"})
    eid, nid = str(uuid.uuid4()), str(uuid.uuid4())
    api_write(
        writer,
        "post",
        "/api/v1/clinical/encounters/",
        {"id": eid, "kind": "walk_in", "person_id": person["id"], "team_id": on_shift_a.team_id},
    )
    sections = {"data": "Presented intoxicated, calm.", "assessment": "No acute risk.", "plan": "Detox referral."}
    body = {"id": nid, "format": "dap", "sections": sections, "substance_use": "Daily alcohol, 12 drinks."}
    api_write(writer, "post", f"/api/v1/clinical/encounters/{eid}/notes/", body)
    api_write(writer, "post", f"/api/v1/clinical/notes/{nid}/sign/", {"revision": 1})
    # The clinician's own Part 2 authorisation is withdrawn: they read the record like any colleague.
    from django.contrib.auth.models import Permission

    clinician_a.user_permissions.remove(Permission.objects.get(codename="view_part2"))

    sup = signed_in_page(phone(timezone_id=TZ), clinical_supervisor.username, landing="**/board")
    sup.goto(f"/encounters/{eid}")
    sup.get_by_test_id("note-signed").wait_for()
    sup.get_by_label("Kind").select_option("correction")
    sup.get_by_label("Reason", exact=True).fill("Drink count misheard")
    sup.get_by_label("Text", exact=True).fill("Ten drinks a day, not twelve.")
    sup.get_by_role("button", name="Add addendum").click()
    sup.locator(".addenda").get_by_text("Ten drinks a day").wait_for()
    assert_accessible(sup)
    sup.get_by_role("button", name="Co-sign note").click()
    sup.get_by_test_id("cosigned").filter(has_text="Co-signed by Sam Irwin").wait_for(timeout=30_000)
    note = ClinicalNote.objects.get(pk=nid)
    assert note.cosigned_by_id == clinical_supervisor.pk and note.addenda.get().kind == "correction"

    # The printable record, as the supervisor (Part 2 reader) sees it.
    sup.get_by_role("link", name="Printable view").click()
    sup.wait_for_url(f"**/encounters/{eid}/print")
    signature = sup.get_by_test_id("print-signature").inner_text()
    assert "Signed by Claire Test on" in signature and "co-signed by Sam Irwin on" in signature
    assert ("EST" in signature) or ("EDT" in signature)  # shown in America/New_York
    assert "Daily alcohol, 12 drinks." in sup.get_by_test_id("print-part2").inner_text()
    assert "Ten drinks a day, not twelve." in sup.locator(".print-record").inner_text()
    assert_accessible(sup)
    sup.emulate_media(media="print")
    assert not sup.locator(".app-header").is_visible() and not sup.get_by_role("button", name="Print").is_visible()
    screenshot(sup, "print-record-supervisor")
    sup.emulate_media(media="screen")

    # The clinician without Part 2: the same record without the substance-use section.
    clin = signed_in_page(phone(timezone_id=TZ), clinician_a.username)
    clin.goto(f"/encounters/{eid}/print")
    clin.get_by_test_id("print-signature").wait_for()
    assert clin.get_by_test_id("print-part2").count() == 0
    assert "Daily alcohol" not in clin.content()
    screenshot(clin, "print-record-clinician")
    # The clinician may add an addendum too, but co-signing is not theirs.
    clin.goto(f"/encounters/{eid}")
    clin.get_by_test_id("cosigned").wait_for()
    assert clin.get_by_role("button", name="Co-sign note").count() == 0
    assert clin.get_by_role("button", name="Add addendum").is_enabled()


@pytest.mark.parametrize(("width", "height"), [(360, 640), (390, 844)])
def test_the_action_bar_is_small_and_covers_nothing(
    browser: Any, live_asgi: Any, on_shift_a: Any, clinician_a: Any, width: int, height: int
) -> None:
    ctx = browser.new_context(
        viewport={"width": width, "height": height}, base_url=live_asgi.url, has_touch=True, timezone_id=TZ
    )
    try:
        page = ctx.new_page()
        sign_in(page, clinician_a.username)
        page.wait_for_url("**/team")
        page.goto("/encounters/new")
        page.wait_for_url("**/encounters/*-*")
        page.get_by_label("Subjective", exact=True).fill("Layout check.")
        bar = page.locator(".action-bar")
        box = bar.bounding_box()
        assert box is not None
        assert box["height"] <= 0.15 * height, box
        assert box["y"] + box["height"] <= height + 0.5  # on the screen, at the bottom

        # Every field, focused from the keyboard, is above the bar (never under it).
        fields = page.locator("main textarea, main input:not([type=radio]):not([type=checkbox]), main select")
        for i in range(fields.count()):
            field = fields.nth(i)
            if not field.is_visible():
                continue
            field.focus()
            page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
            fb, bb = field.bounding_box(), bar.bounding_box()
            assert fb is not None and bb is not None
            assert fb["y"] + fb["height"] <= bb["y"] + 0.5, (i, fb, bb)

        # At the end of the page the bar sits after the last card: it covers none of them.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_timeout(200)
        bb = bar.bounding_box()
        assert bb is not None
        for card in page.locator("main .card").all():
            cb = card.bounding_box()
            if cb is None:
                continue
            overlap = min(cb["y"] + cb["height"], bb["y"] + bb["height"]) - max(cb["y"], bb["y"])
            assert overlap <= 0.5, (card.inner_text()[:60], cb, bb)
        page.screenshot(path=str(ARTIFACTS / f"action-bar-{width}x{height}.png"))  # the screen as a phone shows it
        record_screenshot(page, f"encounter-editor-{width}x{height}")
        assert_accessible(page)
    finally:
        ctx.close()


def test_offline_the_same_rule_keeps_sign_disabled_and_contradicting_dispositions_cannot_both_be_chosen(
    phone: Any, on_shift_a: Any, clinician_a: Any
) -> None:
    """Issue 14 items 2 and 6 in the app, offline: the sign-readiness rule (generated from the server's)
    disables Sign with what is missing in words; a disposition that contradicts a chosen one is disabled
    with the reason. Back online the choice is saved, and a second phone shows it recorded with the
    contradicting outcome still disabled."""
    from playwright.sync_api import expect

    a_ctx = phone(timezone_id=TZ)
    a = signed_in_page(a_ctx, clinician_a.username)
    wait_for_service_worker(a)
    a.goto("/encounters/new")
    a.wait_for_url("**/encounters/*-*")
    eid = a.url.rstrip("/").split("/")[-1]
    a.get_by_label("Subjective", exact=True).fill("Started on scene.")
    a.get_by_role("button", name="Save", exact=True).click()
    sync_status(a, "Synced with the server.")

    a_ctx.set_offline(True)
    for label, text in SOAP.items():
        a.get_by_label(label, exact=True).fill(text)
    high_risk_screen(a)
    sign = a.get_by_role("button", name="Sign note")
    expect(sign).to_be_disabled()
    missing = a.get_by_test_id("sign-missing").locator("li")
    expect(missing.last).to_have_text("High risk: record a disposition decision")
    texts = missing.all_inner_texts()
    assert "High risk: confirm “Lethal means addressed”" in texts and len(texts) == 5, texts
    assert not any("_" in t for t in texts), texts  # words, never raw keys

    resolved, arrest = a.get_by_label("Resolved on scene", exact=True), a.get_by_label("Arrest", exact=True)
    expect(arrest).to_be_enabled()
    resolved.check()
    expect(arrest).to_be_disabled()
    why = a.locator(f"#{arrest.get_attribute('aria-describedby')}")
    expect(why).to_have_text("Not with “Resolved on scene”: the person left the scene.")
    expect(missing).to_have_count(4)
    for label in PRECAUTIONS:
        a.get_by_label(label).check()
    a.get_by_text("Everything needed to sign is there.").wait_for()
    expect(sign).to_be_enabled()
    record_screenshot(a, "dispositions-exclusive-offline")

    # Online again: saved (not signed); the server holds the one outcome.
    a_ctx.set_offline(False)
    a.get_by_role("button", name="Save", exact=True).click()
    sync_status(a, "Synced with the server.")
    from apps.clinical.models import Disposition

    assert list(Disposition.objects.filter(encounter_id=eid).values_list("code", flat=True)) == ["resolved_on_scene"]

    b = signed_in_page(phone(timezone_id=TZ), clinician_a.username)
    b.goto(f"/encounters/{eid}")
    recorded = b.get_by_label("Resolved on scene (recorded)", exact=True)
    expect(recorded).to_be_checked(timeout=30_000)
    expect(recorded).to_be_disabled()  # a recorded outcome is not unticked from the app
    expect(b.get_by_label("Arrest", exact=True)).to_be_disabled()
    expect(b.get_by_label("Resolved with referral", exact=True)).to_be_disabled()  # resolved in place one way only
    assert_accessible(b)
