"""Snapshots: the list and a readable diff between two."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from app.admin.accounts import create_user
from app.domain.envelope import NewEvent
from app.service import DealTracker
from tests.admin.conftest import DAY, PASSWORD, Browser, open_deal, register_org

service = pytest.importorskip("app.snapshots.service")


@pytest.fixture
def fresh_app(fresh_database_url: str) -> Iterator[Flask]:
    """An app on an empty log, so snapshots hold only this test's data."""
    app = create_app({"DATABASE_URL": fresh_database_url, "DEALTRACKER_ENV": "test"})
    app.config["TESTING"] = True
    yield app
    app.extensions["dealtracker"].engine.dispose()


def test_no_snapshots_yet(fresh_app: Flask) -> None:
    browser = _signed_in(fresh_app)
    assert "No snapshots yet." in browser.get("/admin/snapshots").get_data(as_text=True)


def test_the_diff_between_two_snapshots_names_what_changed(fresh_app: Flask) -> None:
    engine = fresh_app.extensions["dealtracker"].engine
    tracker = DealTracker(fresh_app.extensions["dealtracker"].store)
    deal_id = open_deal(tracker, register_org(tracker, "Helix"), register_org(tracker, "Nova"))
    first = service.take(engine).id
    report = {"status": "completed", "amount_text": "80억달러", "amount_basis": "cumulative"}
    source = {"publisher": "Test Wire"}
    tracker.append(f"deal:{deal_id}", NewEvent("investment.reported", report, DAY, "day", source))
    added = register_org(tracker, "Newcomer")
    second = service.take(engine).id
    browser = _signed_in(fresh_app)
    listing = browser.get("/admin/snapshots").get_data(as_text=True)
    assert f'name="old" value="{first}"' in listing and f'name="new" value="{second}"' in listing
    html = browser.get(f"/admin/snapshots/diff?old={first}&new={second}").get_data(as_text=True)
    assert "Newcomer" in html and f"/admin/organizations/{added}" in html
    assert "total invested" in html and "8,000,000,000 USD" in html
    assert browser.get("/admin/snapshots/diff?old=1").status_code == 400


def _signed_in(app: Flask) -> Browser:
    engine = app.extensions["dealtracker"].engine
    create_user(engine, username="snapshot-reader", role="reader", password=PASSWORD)
    browser = Browser(app.test_client())
    browser.get("/admin/login")
    browser.post("/admin/login", {"username": "snapshot-reader", "password": PASSWORD})
    browser.get("/admin/")
    return browser
