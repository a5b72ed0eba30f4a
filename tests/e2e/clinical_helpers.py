"""Helpers shared by the clinical end-to-end tests (encounter, conflict, officer privacy)."""

from __future__ import annotations

import uuid
from typing import Any

from .auth import sign_in
from .axe import serious_violations


def signed_in_page(context: Any, username: str, landing: str = "**/team") -> Any:
    page = context.new_page()
    sign_in(page, username)
    page.wait_for_url(landing)
    return page


def wait_for_service_worker(page: Any) -> None:
    """The worker is installed, has precached the shell and controls the page."""
    page.evaluate(
        """async () => {
            await navigator.serviceWorker.ready;
            if (!navigator.serviceWorker.controller) {
                const sw = navigator.serviceWorker;
                await new Promise((resolve) => sw.addEventListener('controllerchange', resolve, { once: true }));
            }
        }"""
    )


def api_write(client: Any, method: str, url: str, body: dict[str, Any]) -> Any:
    res = getattr(client, method)(
        url, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()), HTTP_HOST="127.0.0.1"
    )
    assert res.status_code in (200, 201), res.content
    return res.json()


def answer(page: Any, question_start: str, yes: bool) -> None:
    """Answer one C-SSRS question (its radiogroup is named by the question text)."""
    group = page.get_by_role("radiogroup", name=question_start)
    group.get_by_text("Yes" if yes else "No", exact=True).click()


def assert_accessible(page: Any) -> None:
    """axe-core finds no serious or critical violation."""
    assert serious_violations(page) == []


def record_screenshot(page: Any, name: str) -> None:
    """A full-page screenshot of the encounter editor. A full-page capture would paint the sticky
    Save / Sign bar where the phone's screen ended, over the middle of the page; the phone never shows
    it there, so for the capture the bar takes its place at the end of the form."""
    from .conftest import screenshot

    page.evaluate("() => document.querySelectorAll('.action-bar').forEach((b) => { b.style.position = 'static'; })")
    try:
        screenshot(page, name)
    finally:
        page.evaluate("() => document.querySelectorAll('.action-bar').forEach((b) => { b.style.position = ''; })")
