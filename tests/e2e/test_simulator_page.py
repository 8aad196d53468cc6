"""The phone simulator page in headless Chromium (Debian's ``chromium``, driven by Playwright; no
browser download): send a message, see the auto-reply appear. The screenshot is kept under
``.local/artifacts/``. Without chromium the test skips outside CI and fails in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sms_automation_local.layout import ROOT
from sms_automation_local.state import LocalState
from tests.e2e.polling import DEADLINE_SECONDS

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / ".local" / "artifacts"
AUTO_REPLY = "Thanks for your message! Text CALL for a call back or BOOK to confirm an appointment."


@pytest.fixture
def page() -> Iterator[object]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1200, "height": 900})
        finally:
            browser.close()


def test_simulator_page_sends_a_message_and_shows_the_auto_reply(
    local_stack: LocalState, page: object
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    contact = "+15005550201"
    untrusted = "<img src=x onerror=alert(1)> hello from the browser"
    page.goto(local_stack.simulator_url)
    page.fill("#contact", contact)
    page.select_option("#number", local_stack.demo_number)
    page.fill("#body", untrusted)
    page.click("#send")

    conversation = page.locator("#conversation")
    expect(page.locator("#send-status")).to_contain_text("the stack answered 200")
    expect(conversation.locator("li.sent .text")).to_have_text(untrusted)  # shown as text
    expect(conversation.locator("li.received .text")).to_have_text(
        AUTO_REPLY, timeout=DEADLINE_SECONDS * 1000
    )
    expect(page.locator("#stored li strong")).to_have_text(
        untrusted, timeout=DEADLINE_SECONDS * 1000
    )
    assert page.locator("#conversation img").count() == 0  # the body was not parsed as HTML

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "simulator.png"), full_page=True)
