"""Fixtures for the browser tests: the real app served on a free port, and headless Chromium."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.admin.accounts import create_user

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a long browser password"


@pytest.fixture(scope="session")
def live_server(database_url: str) -> Iterator[str]:
    """Serve the app on 127.0.0.1 with a free port in a thread; yield its base URL."""
    from werkzeug.serving import make_server

    app = create_app(
        {"DATABASE_URL": database_url, "DEALTRACKER_ENV": "test", "RATE_LIMIT_PER_MINUTE": 0}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["dealtracker"].engine.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright; skipped when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser page (its own cookies) with a readable window size."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def editor_login(database_url: str) -> tuple[str, str]:
    """A new editor's username and password."""
    from app.config import Settings
    from app.store.database import make_engine

    engine = make_engine(database_url, Settings(database_url=database_url, env="test"))
    username = f"desk-{uuid.uuid4().hex[:8]}"
    create_user(engine, username=username, role="editor", password=PASSWORD)
    engine.dispose()
    return username, PASSWORD


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot under artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
