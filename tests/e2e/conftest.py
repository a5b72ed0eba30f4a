"""End-to-end fixtures: the real ASGI app (HTTP + WebSockets) on a free port, served from a thread
against the test database, and Debian's Chromium driven by Playwright (no browser downloads here).

Tests using these fixtures are marked ``e2e``: without Chromium they skip with the reason, and under
REQUIRE_SERVICES=1 they fail. Screenshots go to ``tests/e2e/artifacts/`` (not committed).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CHROMIUM

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveAsgi:
    def __init__(self, port: int) -> None:
        import uvicorn

        from durham_coresponse.asgi import application

        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            application, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws_ping_interval=None
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("ASGI test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        from django.db import connections

        self.server.should_exit = True
        self.thread.join(timeout=10)
        # The server's worker threads returned their PostgreSQL connections to the psycopg pool, which
        # keeps them open: close it (it reopens on demand) so the test database can be dropped.
        for conn in connections.all(initialized_only=True):
            close_pool = getattr(conn, "close_pool", None)
            if close_pool is not None:
                close_pool()


@pytest.fixture
def live_asgi(transactional_db: Any, settings: Any) -> Iterator[LiveAsgi]:
    """The whole app (PWA, API, WebSockets) on a free port. Needs the PWA built (`make frontend`)."""
    dist = Path(settings.BASE_DIR) / "frontend" / "dist" / "index.html"
    if not dist.is_file():
        pytest.fail("frontend/dist is missing: run `make frontend` (make test builds it before pytest)")
    port = _free_port()
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    server = LiveAsgi(port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    if not CHROMIUM:
        pytest.skip("needs Debian's chromium")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are still
    # synchronous and safe (the known pytest-playwright + Django combination).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # With a running loop on this thread, Django hands out new connection objects, which lack the
    # snapshot of migration data (role groups, code tables) that transactional tests restore from.
    # Carry the snapshot over, and close the old connections so the test database can be dropped.
    snapshots = {alias: getattr(connections[alias], "_test_serialized_contents", None) for alias in connections}
    with django_db_blocker.unblock():
        connections.close_all()
    with sync_playwright() as pw:
        for alias, contents in snapshots.items():
            if contents is not None:
                setattr(connections[alias], "_test_serialized_contents", contents)  # noqa: B010 - private attr
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def phone(browser: Any, live_asgi: LiveAsgi) -> Iterator[Any]:
    """A fresh phone-sized browser context (its own cookies and IndexedDB), as a factory. Its pages
    record Content-Security-Policy violations; any left open at the end of the test fails it."""
    from .auth import csp_violations, watch_csp

    contexts: list[Any] = []

    def open_context(**kwargs: Any) -> Any:
        ctx = browser.new_context(
            viewport={"width": 360, "height": 740}, base_url=live_asgi.url, has_touch=True, **kwargs
        )
        watch_csp(ctx)
        contexts.append(ctx)
        return ctx

    yield open_context
    violations: list[str] = []
    for ctx in contexts:
        for page in ctx.pages:
            try:
                violations += [f"{page.url}: {v}" for v in csp_violations(page)]
            except Exception:  # noqa: S112 - a page that crashed or is closing has nothing to read
                continue
        ctx.close()
    assert violations == [], "CSP violations:\n" + "\n".join(violations)


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
