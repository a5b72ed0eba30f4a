"""The security screens as a person meets them: enrolling an authenticator at the first sign-in,
the idle lock (unsent work kept, unlock resumes and syncs), signing out another device, a
supervisor revoking a lost phone, and the lockout message. axe-core checks each new screen and a
listener checks that no page breaks the Content-Security-Policy."""

from __future__ import annotations

import base64
import datetime as dt
import time
from typing import Any

import pytest

from .auth import PASSWORD, authenticator, csp_violations, enter_password, sign_in, watch_csp
from .axe import serious_violations
from .conftest import screenshot
from .test_dispatch_flow import LIVE, in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def check_page(page: Any, name: str) -> None:
    """No serious/critical axe violation and no CSP violation so far; a screenshot for review."""
    screenshot(page, name)
    assert serious_violations(page) == [], name
    assert csp_violations(page) == [], name


def totp_now(secret: str) -> str:
    """What an authenticator app shows for a base32 secret read off the screen."""
    from django_otp.oath import TOTP

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key).token():06d}"


def outbox_count(page: Any) -> int:
    return int(
        page.evaluate(
            """() => new Promise((resolve, reject) => {
                const req = indexedDB.open("coresponse");
                req.onsuccess = () => {
                    const tx = req.result.transaction("outbox", "readonly");
                    const c = tx.objectStore("outbox").count();
                    c.onsuccess = () => { resolve(c.result); req.result.close(); };
                    c.onerror = () => reject(c.error);
                };
                req.onerror = () => reject(req.error);
            })"""
        )
    )


def outbox_items(page: Any) -> list[dict[str, Any]]:
    return list(
        page.evaluate(
            """() => new Promise((resolve, reject) => {
                const req = indexedDB.open("coresponse");
                req.onsuccess = () => {
                    const all = req.result.transaction("outbox", "readonly").objectStore("outbox").getAll();
                    all.onsuccess = () => { resolve(all.result); req.result.close(); };
                    all.onerror = () => reject(all.error);
                };
                req.onerror = () => reject(req.error);
            })"""
        )
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_first_sign_in_enrols_an_authenticator_and_shows_the_recovery_codes_once(
    phone: Any, scheme: str, on_shift_a: Any, clinician_a: Any
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from playwright.sync_api import expect

    ctx = phone(color_scheme=scheme)
    watch_csp(ctx)
    page = ctx.new_page()
    enter_password(page, clinician_a.username)
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    assert page.evaluate("() => document.querySelector('img.qr').naturalWidth") > 0  # the SVG rendered
    secret_el = page.locator("code.secret")
    secret = secret_el.get_attribute("data-secret") or ""
    shown = secret_el.inner_text()
    assert shown.replace(" ", "") == secret and all(len(g) <= 4 for g in shown.split(" "))  # groups of 4
    check_page(page, f"mfa-enrol-{scheme}")

    wrong = "000000" if totp_now(secret) != "000000" else "111111"
    page.get_by_label("6-digit code from your authenticator").fill(wrong)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_be_visible()  # a wrong code is refused, the key stays
    assert not TOTPDevice.objects.filter(user=clinician_a, confirmed=True).exists()

    page.wait_for_timeout(2_500)  # django-otp throttles a device for 1 s after a wrong code
    page.get_by_label("6-digit code from your authenticator").fill(totp_now(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    check_page(page, f"mfa-recovery-codes-{scheme}")
    recovery = page.locator(".recovery-codes li").first.inner_text().strip()
    page.get_by_role("button", name="I have saved these").click()
    page.wait_for_url("**/team")
    expect(page.get_by_text("CR-A").first).to_be_visible()
    assert TOTPDevice.objects.filter(user=clinician_a, confirmed=True).count() == 1

    # Signed out, the person gets in again with one of the recovery codes instead of the app.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin")
    enter_password(page, clinician_a.username)
    page.get_by_role("button", name="Use a recovery code").click()
    page.get_by_label("Enter one of your recovery codes").fill(recovery)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/team")
    assert csp_violations(page) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_code_step_offers_a_recovery_code_and_refuses_a_wrong_code(phone: Any, scheme: str, officer_a: Any) -> None:
    from playwright.sync_api import expect

    authenticator(officer_a.username)
    ctx = phone(color_scheme=scheme)
    watch_csp(ctx)
    page = ctx.new_page()
    enter_password(page, officer_a.username)
    code = page.get_by_label("Enter the 6-digit code from your authenticator")
    expect(code).to_be_visible()
    check_page(page, f"mfa-code-step-{scheme}")
    code.fill("12345x")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_role("button", name="Use a recovery code").click()
    expect(page.get_by_label("Enter one of your recovery codes")).to_be_visible()
    assert "/team" not in page.url


def test_idle_lock_hides_everything_keeps_unsent_work_and_unlock_resumes_and_syncs(
    phone: Any, settings: Any, on_shift_a: Any, officer_a: Any, clinician_a: Any, dispatcher: Any
) -> None:
    from playwright.sync_api import expect

    from apps.incidents import services
    from apps.incidents.models import Assignment

    # A short idle time on both ends (the app reads it from auth/session); activity recorded at once.
    settings.SECURITY_IDLE_LOCK_SECONDS = 15
    settings.SECURITY_ACTIVITY_WRITE_SECONDS = 0
    incident = in_thread(
        services.incident_create, by=dispatcher, values={"call_type_code": "OD", "priority": 7, "address": "3 Oak St"}
    )
    offered = in_thread(services.assignment_offer, incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
    in_thread(services.assignment_accept, assignment_id=offered.pk, by=clinician_a)

    ctx = phone()
    watch_csp(ctx)
    page = ctx.new_page()
    sign_in(page, officer_a.username)
    page.wait_for_url("**/team")
    buttons = page.locator(".status-buttons button")
    expect(buttons).to_have_text(["En route"], timeout=LIVE)

    ctx.set_offline(True)
    page.get_by_role("button", name="En route").click()
    expect(page.locator(".notice-queued")).to_contain_text("saved on this device", timeout=LIVE)

    # No input from here on: the app locks itself.
    lock = page.get_by_role("heading", name="Locked — enter your password to continue")
    expect(lock).to_be_visible(timeout=40_000)
    expect(page.locator(".lock-user")).to_contain_text(officer_a.get_full_name() or officer_a.username)
    html = page.content()
    assert "3 Oak St" not in html and "status-buttons" not in html  # unmounted, not covered
    assert outbox_count(page) == 1  # the unsent tap survived the lock
    check_page(page, "lock-screen")

    ctx.set_offline(False)
    page.get_by_label("Password", exact=True).fill("wrong-password")
    page.get_by_role("button", name="Unlock").click()
    expect(page.locator("#lock-error")).to_contain_text("Wrong password")
    assert outbox_count(page) == 1
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Unlock").click()
    expect(lock).to_have_count(0, timeout=LIVE)
    expect(page.locator(".banner")).to_contain_text("synced", timeout=LIVE)
    expect(buttons).to_have_text(["On scene"], timeout=LIVE)
    a = Assignment.objects.get()
    assert a.status == "en_route" and a.en_route_at is not None
    assert outbox_count(page) == 0
    assert csp_violations(page) == []


# Every WebSocket the page opens, with whether it opened and its close code (null while open).
WS_LOG = """
(() => {
  const Native = window.WebSocket;
  window.__wsLog = [];
  class Logged extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      const entry = { url: String(url), opened: false, closed: null };
      window.__wsLog.push(entry);
      this.addEventListener("open", () => { entry.opened = true; });
      this.addEventListener("close", (e) => { entry.closed = e.code; });
    }
  }
  window.WebSocket = Logged;
})();
"""


def test_12_hour_limit_shows_sign_in_keeps_the_offline_write_and_sends_it_once_after_signing_in_again(
    phone: Any, settings: Any, on_shift_a: Any, officer_a: Any, clinician_a: Any, dispatcher: Any
) -> None:
    from django.utils import timezone
    from playwright.sync_api import expect

    from apps.core.models import IdempotencyRecord
    from apps.incidents import services
    from apps.incidents.models import Assignment, TimelineEntry
    from apps.security.models import SecurityEvent, UserSession

    # The "12 hours" shortened to 20 s on the server (the app learns it from auth/session's expires_at).
    limit = 20
    settings.SECURITY_SESSION_MAX_SECONDS = limit
    incident = in_thread(
        services.incident_create, by=dispatcher, values={"call_type_code": "OD", "priority": 7, "address": "3 Oak St"}
    )
    offered = in_thread(services.assignment_offer, incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
    assignment = in_thread(services.assignment_accept, assignment_id=offered.pk, by=clinician_a)

    status_path = f"/api/v1/assignments/{assignment.pk}/status/"

    def queued(page: Any) -> list[str]:
        """The outbox states of the status write (other writes the app may queue are not counted: the
        officer's phone can flash the offer from the event replay and queue an "Assignment seen")."""
        return [i["status"] for i in outbox_items(page) if i["url"] == status_path]

    def en_route_entries() -> int:
        return TimelineEntry.objects.filter(assignment=assignment, new_value="en_route").count()

    ctx = phone()
    ctx.add_init_script(WS_LOG)
    page = ctx.new_page()
    sign_in(page, officer_a.username)
    page.wait_for_url("**/team")
    first = UserSession.objects.get(user=officer_a)
    expires = first.created_at + dt.timedelta(seconds=limit)
    buttons = page.locator(".status-buttons button")
    expect(buttons).to_have_text(["En route"], timeout=LIVE)
    expect(page.get_by_text("3 Oak St")).to_be_visible()
    expect(page.locator(".banner-status")).to_contain_text("All changes synced", timeout=LIVE)  # socket open

    # Offline, inside the limit: the tap is queued on the phone.
    ctx.set_offline(True)
    page.get_by_role("button", name="En route").click()
    expect(page.locator(".notice-queued")).to_contain_text("saved on this device", timeout=LIVE)
    assert queued(page) == ["pending"]
    assert timezone.now() < expires, "the tap must be made before the limit; raise `limit` on a slow machine"

    # Past the limit, back online: the full sign-in with the 12-hour message, nothing of the call left.
    time.sleep((expires - timezone.now()).total_seconds() + 1)
    ctx.set_offline(False)
    page.wait_for_url("**/signin", timeout=LIVE)
    expect(page.get_by_text("Your session reached its 12-hour limit")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    html = page.content()
    assert "3 Oak St" not in html and "status-buttons" not in html
    check_page(page, "session-expired")

    # The live socket is closed (by the server: 4401, the moment the replayed write ended the session;
    # or by the app itself on that write's 401, if that comes first) and no new one is opened.
    page.wait_for_function("() => window.__wsLog.length > 0 && window.__wsLog.every((e) => e.closed !== null)")
    sockets = page.evaluate("() => window.__wsLog")
    assert len(sockets) == 1 and sockets[0]["opened"] and sockets[0]["closed"] in (4401, 1000), sockets
    # The server ended the session as expired and audited it.
    first.refresh_from_db()
    assert first.ended_at is not None and first.end_reason == UserSession.EndReason.EXPIRED
    expired = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SESSION_EXPIRED, user=officer_a)
    assert [e.details.get("session") for e in expired] == [first.pk]

    # The queued write is still on the phone and never reached the server.
    assert queued(page) == ["pending"]
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.ACCEPTED and assignment.en_route_at is None
    assert en_route_entries() == 0 and not IdempotencyRecord.objects.filter(path=status_path).exists()

    # The same person signs in again (password and code): the write is sent, once.
    sign_in(page, officer_a.username)
    page.wait_for_url("**/team", timeout=LIVE)
    deadline = time.monotonic() + LIVE / 1000
    while queued(page) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert queued(page) == []  # sent and answered: an item leaves the outbox on the server's 2xx
    expect(page.locator(".banner-status")).to_contain_text("All changes synced", timeout=LIVE)
    expect(buttons).to_have_text(["On scene"], timeout=LIVE)
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.EN_ROUTE and assignment.en_route_at is not None
    assert en_route_entries() == 1
    assert IdempotencyRecord.objects.filter(user=officer_a, path=status_path).count() == 1
    assert UserSession.objects.filter(user=officer_a, ended_at__isnull=True).exclude(pk=first.pk).count() == 1
    assert csp_violations(page) == []


def test_signing_out_a_device_from_another_sends_it_to_sign_in(phone: Any, on_shift_a: Any, officer_a: Any) -> None:
    from playwright.sync_api import expect

    first_ctx = phone()
    watch_csp(first_ctx)
    first = first_ctx.new_page()
    sign_in(first, officer_a.username)
    first.wait_for_url("**/team")
    expect(first.locator(".banner-status")).to_contain_text("All changes synced", timeout=LIVE)  # socket open

    second_ctx = phone()
    watch_csp(second_ctx)
    second = second_ctx.new_page()
    sign_in(second, officer_a.username)  # same user, same 30-second step: the next code
    second.wait_for_url("**/team")
    second.get_by_role("link", name="Security").click()
    second.wait_for_url("**/security")
    items = second.locator(".session-item")
    expect(items).to_have_count(2, timeout=LIVE)
    expect(items.locator(".pill")).to_have_text(["This device"])
    check_page(second, "my-sessions")

    second.get_by_role("button", name="Sign out this device").click()
    dialog = second.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Sign out device").click()
    expect(items).to_have_count(1, timeout=LIVE)

    # The first phone's socket is closed by the server: it goes to sign-in without any tap.
    first.wait_for_url("**/signin", timeout=LIVE)
    expect(first.get_by_text("Your session has ended")).to_be_visible()
    assert csp_violations(first) == [] and csp_violations(second) == []


def test_supervisor_revokes_a_lost_phone(
    phone: Any, browser: Any, live_asgi: Any, on_shift_a: Any, officer_a: Any, supervisor: Any
) -> None:
    from playwright.sync_api import expect

    lost = phone().new_page()
    sign_in(lost, officer_a.username)
    lost.wait_for_url("**/team")

    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_asgi.url)
    try:
        watch_csp(ctx)
        page = ctx.new_page()
        sign_in(page, supervisor.username)
        page.wait_for_url("**/board")
        page.get_by_role("link", name="Security").click()
        expect(page.get_by_role("heading", name="Lost phone")).to_be_visible()
        page.get_by_label("Person", exact=True).select_option(label=officer_a.get_full_name())
        page.get_by_role("button", name="Revoke all their devices").click()
        page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
        done = page.get_by_role("status").filter(has_text="signed out,")
        expect(done).to_contain_text("1 session signed out")
        check_page(page, "lost-phone")
    finally:
        ctx.close()
    lost.wait_for_url("**/signin", timeout=LIVE)


def test_repeated_wrong_passwords_show_the_lockout_and_the_wait(phone: Any, officer_a: Any, settings: Any) -> None:
    from playwright.sync_api import expect

    page = phone().new_page()
    enter_password(page, officer_a.username, password="wrong-password")
    for _ in range(settings.SECURITY_LOCKOUT_ACCOUNT_FAILURES):
        expect(page.locator("#signin-error")).to_be_visible()
        page.get_by_label("Password", exact=True).fill("wrong-password")
        page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text("this account is locked", timeout=LIVE)
    expect(page.locator("#signin-error")).to_contain_text("Try again in 15 minutes")
    # The right password does not get in while the lockout lasts.
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text("locked")
    assert "/team" not in page.url


def test_new_recovery_codes_and_replacing_the_authenticator_need_the_password(phone: Any, officer_a: Any) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from playwright.sync_api import expect

    page = phone().new_page()
    sign_in(page, officer_a.username)
    page.wait_for_url("**/team")
    old_key = TOTPDevice.objects.get(user=officer_a, confirmed=True).key
    page.get_by_role("link", name="Security").click()
    password = page.get_by_label("Your password (to confirm it is you)")

    password.fill("wrong-password")
    page.get_by_role("button", name="New recovery codes").click()
    expect(page.locator("#twostep-error")).to_be_visible()

    password.fill(PASSWORD)
    page.get_by_role("button", name="New recovery codes").click()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("button", name="I have saved these").click()
    expect(page.get_by_text("Recovery codes left: 10")).to_be_visible()

    password.fill(PASSWORD)
    page.get_by_role("button", name="Replace authenticator").click()
    expect(page.get_by_role("heading", name="Replace your authenticator")).to_be_visible()
    secret = page.locator("code.secret").get_attribute("data-secret") or ""
    check_page(page, "mfa-replace")
    page.get_by_label("6-digit code from your authenticator").fill(totp_now(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("button", name="I have saved these").click()
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    devices = TOTPDevice.objects.filter(user=officer_a, confirmed=True)
    assert devices.count() == 1 and devices.get().key != old_key
    assert "/signin" not in page.url
