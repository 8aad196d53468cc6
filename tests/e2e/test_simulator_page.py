"""The phone simulator page in headless Chromium (Debian's ``chromium``, driven by Playwright; no
browser download): send a message, see the auto-reply appear. The screenshot is kept under
``.local/artifacts/``. Without chromium the test skips outside CI and fails in CI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sms_automation_local.layout import ROOT
from sms_automation_local.state import LocalState
from tests.e2e.browser import chromium_page
from tests.e2e.polling import DEADLINE_SECONDS
from tests.e2e.texting import AUTO_REPLY

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / ".local" / "artifacts"


@pytest.fixture
def page() -> Iterator[object]:
    with chromium_page() as page:
        yield page


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
