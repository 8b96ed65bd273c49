"""The analyst's day in a real browser (Debian's Chromium, driven by Playwright): sign in, find
an alert in the queue, read its evidence, decide it, see it in the history; a viewer cannot
decide; a reviewer approves; the auditor finds it in the audit log and verifies the chain.
axe-core checks every page (no critical or serious violations); screenshots are saved."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import SCRIPTS, USERS, WebServer

pytestmark = pytest.mark.xdist_group("web")
HIKVISION = "杭州海康威视数字技术股份有限公司"
LAPTOP = {"width": 1366, "height": 768}
WIDE = {"width": 1280, "height": 900}


def _axe(page: Any, name: str, findings: dict[str, list[str]]) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("critical", "serious")
    ]
    findings[name] = bad


def _sign_in(page: Any, server: WebServer, user: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(USERS[user][1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/alerts"))


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))


def _charts_drawn(page: Any, *ids: str) -> None:
    for chart in ids:
        page.wait_for_selector(f"#{chart} canvas", timeout=15_000)


def test_an_analysts_day(browser: Any, web_server: WebServer, screenshots: Path) -> None:
    context = browser.new_context(viewport=WIDE, locale="en-GB")
    page = context.new_page()
    axe: dict[str, list[str]] = {}
    try:
        # Signed out, a page sends the browser to sign in; a wrong password is refused.
        page.goto(web_server.url + "/alerts")
        assert "/login" in page.url
        _axe(page, "login", axe)
        page.screenshot(path=str(screenshots / "01-login.png"))
        page.get_by_label("Username").fill("ana")
        page.get_by_label("Password").fill("not-her-password")
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("alert").inner_text() == "Wrong user name or password."

        # The analyst signs in and finds the Hikvision alert in the queue.
        _sign_in(page, web_server, "ana")
        queue = page.get_by_role("table")
        assert queue.get_by_role("link", name=HIKVISION).first.is_visible()
        for name in SCRIPTS.values():  # Cyrillic and Arabic names, as written
            assert queue.get_by_role("link", name=name).is_visible()
        _axe(page, "alerts", axe)
        page.screenshot(path=str(screenshots / "02-queue.png"), full_page=True)

        # Filter by type (htmx swaps the table) and sort by subject.
        page.get_by_label("Type").select_option("affiliates_rule")
        rows = page.locator("table.queue tbody tr")
        expect(rows).to_have_count(2)
        assert "affiliates rule" in rows.first.inner_text()
        page.get_by_label("Type").select_option("")
        expect(rows).not_to_have_count(2)
        page.get_by_role("link", name="Subject").click()
        page.wait_for_selector("th[aria-sort='ascending'] >> text=Subject")
        subjects = page.locator("td.subject a").all_inner_texts()
        assert subjects == sorted(subjects, key=str)  # the server sorts by the subject's name

        page.get_by_label("Subject").fill("Harbourfront")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("td.subject a", has_not_text="Harbourfront")).to_have_count(0)

        # The affiliates-rule alert: the ownership graph with shares and listed owners.
        page.get_by_label("Type").select_option("affiliates_rule")
        expect(rows).to_have_count(1)
        page.get_by_role("link", name="Harbourfront Compute Pte Ltd").click()
        page.wait_for_url(re.compile(r"/alerts/\d+$"))
        owners = page.get_by_role("table", name=re.compile("Ownership paths"))
        assert "30%" in owners.inner_text() and "LIMITED LIABILITY COMPANY ZALA AERO" in (
            owners.inner_text()
        )
        assert "EL CSL-EL-" in owners.locator("strong.listed").first.inner_text()
        _charts_drawn(page, "ownership-chart", "usage-chart", "ops-chart")
        _axe(page, "alert-ownership", axe)
        page.screenshot(path=str(screenshots / "03-alert-ownership.png"), full_page=True)

        # The Hikvision match: evidence token by token, usage over time; decide it.
        page.goto(web_server.url + "/alerts?type=restricted_party_match&subject=c-105")
        page.get_by_role("link", name=HIKVISION).first.click()
        page.wait_for_url(re.compile(r"/alerts/\d+$"))
        alert_url = page.url
        tokens = page.get_by_role("table", name="How the name matched")
        assert tokens.count() >= 1
        assert "海康威视" in page.locator("table.tokens").all_inner_texts().__str__()
        facts = page.locator(".hit dl").first.inner_text()
        assert "1260H" in facts or "EL" in facts
        assert "Listed on" in facts and "Programs" in facts
        _charts_drawn(page, "usage-chart", "ops-chart")
        _axe(page, "alert-match", axe)
        page.screenshot(path=str(screenshots / "04-alert-match.png"), full_page=True)
        page.get_by_label("Outcome").select_option(label="False positive")
        page.get_by_label("Reason").fill(
            "Different party: our customer is the listed firm's namesake"
        )
        page.get_by_role("button", name="Record decision").click()
        page.wait_for_url(re.compile(r"decided=1"))
        history = page.locator("#history").inner_text()
        assert "false positive by ana (analyst)" in history
        assert "namesake" in history
        assert "pending approval" in page.locator(".facts").first.inner_text()
        _sign_out(page)

        # A viewer reads the alert but has no decision form, and the server refuses a post.
        _sign_in(page, web_server, "vic")
        page.goto(alert_url)
        assert page.get_by_role("button", name="Record decision").count() == 0
        assert page.get_by_role("button", name="Approve").count() == 0
        csrf = page.locator("input[name=csrf]").first.get_attribute("value")
        refused = page.request.post(
            alert_url + "/decision",
            form={"csrf": csrf, "outcome": "confirmed", "reason": "viewer tries"},
            headers={"Accept": "text/html"},
        )
        assert refused.status == 403
        assert "does not hold alerts.decide" in refused.text()
        _sign_out(page)

        # A reviewer approves the false positive (four eyes).
        _sign_in(page, web_server, "rita")
        page.goto(alert_url)
        page.get_by_label("Reason").fill("Agreed: different registration number")
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url(re.compile(r"decided=1"))
        assert "reviewed by rita" in page.locator("#history").inner_text()
        assert "closed" in page.locator(".facts").first.inner_text()
        page.screenshot(path=str(screenshots / "05-alert-approved.png"), full_page=True)
        _sign_out(page)

        # The auditor sees the decision and the approval in the audit log and verifies it.
        _sign_in(page, web_server, "audrey")
        page.get_by_role("link", name="Audit").click()
        page.get_by_label("Subject (customer, account or entity id)").fill("c-105")
        page.get_by_role("button", name="Show").click()
        log = page.get_by_role("table").inner_text()
        assert re.search(r"ana\s+analyst\s+alert\.decide", log), log
        assert re.search(r"rita\s+reviewer\s+alert\.approve", log), log
        assert log.index("alert.approve") < log.index("alert.decide"), log  # newest first
        page.get_by_role("button", name="Verify the chain").click()
        page.wait_for_selector("#verify-result")
        assert page.locator("#verify-result").inner_text().startswith("Intact.")
        _axe(page, "audit", axe)
        page.screenshot(path=str(screenshots / "06-audit.png"), full_page=True)
        # The auditor's Reports page: a form per report; the screening report downloads.
        page.get_by_role("link", name="Reports").click()
        page.wait_for_url(re.compile(r"/reports$"))
        assert page.get_by_label("From").input_value() and page.get_by_label("Year").input_value()
        _axe(page, "reports", axe)
        page.screenshot(path=str(screenshots / "06b-reports.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_label("Format").nth(2).select_option("csv")
            page.locator("#h-screening ~ form").get_by_role("button", name="Download").click()
        assert download.value.suggested_filename.startswith("screening-scan-")
        page.goto(web_server.url + "/users")
        assert page.locator("h1").inner_text() == "Not allowed"  # the users page is admin's
        _sign_out(page)

        # The admin's pages: users, lists; the customer page.
        _sign_in(page, web_server, "adam")
        page.get_by_role("link", name="Users").click()
        assert "audrey" in page.get_by_role("table").inner_text()
        _axe(page, "users", axe)
        page.screenshot(path=str(screenshots / "07-users.png"), full_page=True)
        page.get_by_role("link", name="Lists").click()
        assert "snapshot-1" in page.locator("h2").first.inner_text()
        _axe(page, "lists", axe)
        page.screenshot(path=str(screenshots / "08-lists.png"), full_page=True)
        page.goto(web_server.url + "/customers/c-105")
        assert HIKVISION in page.locator("h1").inner_text()
        _axe(page, "customer", axe)
        page.screenshot(path=str(screenshots / "09-customer.png"), full_page=True)
        page.goto(web_server.url + "/alerts?type=linked_to_restricted")
        page.get_by_role("link", name="Pacific Crest Data Pte Ltd").click()
        _charts_drawn(page, "links-chart")
        assert (
            "same payment fingerprint"
            in page.get_by_role("table", name="The evidence of each link").inner_text()
        )
        _axe(page, "alert-links", axe)
        page.screenshot(path=str(screenshots / "10-alert-links.png"), full_page=True)

        # A laptop screen: the queue fits without a horizontal scroll of the page.
        page.set_viewport_size(LAPTOP)
        page.goto(web_server.url + "/alerts")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= LAPTOP["width"]
        page.screenshot(path=str(screenshots / "11-queue-laptop.png"))
    finally:
        context.close()
    print(f"\nscreenshots in {screenshots}")
    print("axe (critical/serious) per page:", {k: len(v) for k, v in axe.items()})
    assert not any(axe.values()), axe


def test_keyboard_reaches_the_queue(browser: Any, web_server: WebServer) -> None:
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    try:
        page.goto(web_server.url + "/login")
        page.keyboard.type("ana")  # the Username field has the focus
        page.keyboard.press("Tab")
        page.keyboard.type(USERS["ana"][1])
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/alerts"))
        page.keyboard.press("Tab")  # the skip link comes first
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Enter")
        started = time.monotonic()
        for _ in range(40):
            page.keyboard.press("Tab")
            href = page.evaluate("document.activeElement.getAttribute('href') || ''")
            if re.fullmatch(r"/alerts/\d+", href):
                break
        else:
            raise AssertionError("Tab never reached an alert link")
        assert time.monotonic() - started < 30
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/alerts/\d+$"))
    finally:
        context.close()
