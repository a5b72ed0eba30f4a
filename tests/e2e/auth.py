"""The one sign-in helper of the browser tests: password, then the authenticator code (the user
gets a confirmed TOTP authenticator on first use, as after enrolment), and a listener that
collects Content-Security-Policy violations on the pages a test visits."""

from __future__ import annotations

import time
from typing import Any

PASSWORD = "pw-for-tests-1"
CODE_LABEL = "Enter the 6-digit code from your authenticator"

# Collects `securitypolicyviolation` events (blocked scripts, styles, images, connections).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile || ""}:${e.lineNumber || 0}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${where})`);
});
"""


def watch_csp(context: Any) -> None:
    """Every page of this browser context records CSP violations (read with csp_violations)."""
    context.add_init_script(CSP_LISTENER)


def csp_violations(page: Any) -> list[str]:
    return list(page.evaluate("() => window.__cspViolations || []"))


def authenticator(username: str) -> Any:
    """The user's confirmed authenticator (created with a random key if missing)."""
    from django.contrib.auth import get_user_model

    from apps.security.testing import confirmed_device

    return confirmed_device(get_user_model().objects.get(username=username))


def next_code(username: str) -> str:
    """A code the server accepts now. A code is accepted once per 30-second step, so a second
    sign-in of the same user within one step uses the next step's code (inside the device's
    tolerance of one step), and waits for the clock when even that one was used."""
    from apps.security.testing import totp_code

    device = authenticator(username)
    device.refresh_from_db()
    while True:
        now_t = int((time.time() - device.t0) // device.step) + device.drift
        steps = max(0, device.last_t + 1 - now_t)
        if steps <= device.tolerance:
            return totp_code(device, steps=steps)
        time.sleep(1)


def enter_password(page: Any, username: str, password: str = PASSWORD) -> None:
    """The first step only (for tests of refused passwords)."""
    page.set_default_timeout(60_000)
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def enter_code(page: Any, username: str) -> None:
    field = page.get_by_label(CODE_LABEL)
    field.wait_for()
    field.fill(next_code(username))
    page.get_by_role("button", name="Verify").click()


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """The whole sign-in as a person does it: password, then the code from the authenticator."""
    authenticator(username)
    enter_password(page, username, password)
    enter_code(page, username)
