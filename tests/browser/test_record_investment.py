"""An editor records an investment from a Korean article in headless Chromium, then corrects it."""

from __future__ import annotations

import random
import uuid
from typing import Any

from tests.browser.conftest import screenshot


def _hangul(count: int) -> str:
    return "".join(chr(0xAC00 + random.randrange(11172)) for _ in range(count))


def _sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/admin/login")
    screenshot(page, "01-login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/admin/")


def _register(page: Any, base: str, name: str, org_id: str, kind: str, aliases: str = "") -> None:
    page.goto(f"{base}/admin/organizations")
    page.get_by_role("link", name="Register an organization").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Id", exact=True).fill(org_id)
    page.get_by_label("Type", exact=True).select_option(kind)
    if aliases:
        page.get_by_label("Aliases").fill(aliases)
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(f"{base}/admin/organizations/{org_id}")


def test_editor_records_a_korean_amount_sees_the_total_and_corrects_it(
    live_server: str, page: Any, editor_login: tuple[str, str]
) -> None:
    base, suffix = live_server, uuid.uuid4().hex[:8]
    investor, investee = f"helix-{suffix}", f"nova-{suffix}"
    alias = "노바랩스" + _hangul(3)
    _sign_in(page, base, *editor_login)

    _register(page, base, f"Helix Cloud {suffix}", investor, "investor")
    _register(page, base, f"Nova Labs {suffix}", investee, "company", f"{alias}\nNova {suffix}")

    page.goto(f"{base}/admin/organizations")
    page.get_by_label("Search").fill(alias)
    page.get_by_role("button", name="Search").click()
    screenshot(page, "02-organization-search")
    page.get_by_role("link", name=f"Nova Labs {suffix}").click()
    page.wait_for_url(f"{base}/admin/organizations/{investee}")
    assert alias in page.locator("main").inner_text()

    page.goto(f"{base}/admin/deals")
    page.get_by_role("link", name="Open a deal").click()
    page.get_by_role("link", name="Investment").click()
    page.get_by_label("Investor").fill(investor)
    page.get_by_label("Investee").fill(alias)  # chosen by its Korean alias
    page.get_by_label("Title", exact=True).fill(f"Helix Cloud invests in Nova Labs {suffix}")
    page.get_by_label("Publisher").fill("한국경제")
    page.get_by_role("button", name="Find parties and open the deal").click()
    page.wait_for_url(f"{base}/admin/deals/*")
    deal_url = page.url

    page.get_by_role("link", name="Record a report").click()
    page.get_by_label("Status", exact=True).select_option("completed")
    page.get_by_label("Amount", exact=True).fill("80억달러")
    page.get_by_label("Basis", exact=True).select_option("cumulative")
    page.get_by_label("Occurred", exact=True).fill("2025-01-10")
    page.get_by_label("Publisher").fill("한국경제")
    page.get_by_label("Attribution").select_option("reported")
    page.get_by_label("URL", exact=True).fill("https://news.example/helix-nova")
    page.get_by_role("button", name="Review").click()
    review = page.locator(".review")
    assert "8,000,000,000 USD" in review.inner_text()
    screenshot(page, "03-record-review")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(deal_url)
    assert page.locator("#total-invested").inner_text() == "8,000,000,000 USD"
    screenshot(page, "04-deal-recorded")

    page.locator(".timeline .event", has_text="Investment reported").get_by_role(
        "link", name="Correct"
    ).click()
    page.get_by_label("Amount", exact=True).fill("75억달러")
    page.get_by_label("Reason").fill(
        "The article misprinted the amount; the follow-up says 75억달러"
    )
    page.get_by_role("button", name="Review the correction").click()
    assert "7,500,000,000 USD" in page.locator(".review").first.inner_text()
    screenshot(page, "05-correct-review")
    page.get_by_role("button", name="Save correction").click()
    page.wait_for_url(deal_url)

    assert page.locator("#total-invested").inner_text() == "7,500,000,000 USD"
    timeline = page.locator(".timeline")
    assert timeline.locator(".event", has_text="Investment reported").count() == 1
    assert "corrected" in timeline.locator(".event", has_text="Investment reported").inner_text()
    correction = timeline.locator(".event", has_text="Correction")
    assert "misprinted" in correction.inner_text()
    assert "8,000,000,000 USD" in correction.inner_text()
    screenshot(page, "06-deal-corrected")

    page.get_by_label("As of").fill("2025-01-09")
    page.get_by_role("button", name="Show").click()
    assert page.locator("#total-invested").inner_text() == "—"
    screenshot(page, "07-deal-as-of")
    for name, path in (("08-dashboard", "/admin/"), ("09-deals", "/admin/deals")):
        page.goto(base + path)
        screenshot(page, name)
    page.goto(f"{base}/admin/organizations/{investee}")
    screenshot(page, "10-organization")
