"""The web console on the local stack, in headless Chromium: what a newcomer does after
``make run``. Sign in with the demo admin the runner printed; text the demo number on the phone
simulator page (its link leads to the console); the message appears in the inbox without a
reload; its detail shows the action log of the demo trigger's auto-reply; the contact's thread
shows the text, then the reply with its delivery status. Hostile text stays text all the way.

Screenshots are kept under ``.local/artifacts/``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sms_automation_local.demo import DEMO_CONSOLE_PASSWORD
from sms_automation_local.layout import ROOT
from sms_automation_local.state import LocalState
from tests.e2e.browser import chromium_page, sign_in
from tests.e2e.polling import DEADLINE_SECONDS, wait_for

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / ".local" / "artifacts"
PHONE = (390, 844)  # a phone held upright: the console must work there


@pytest.fixture
def page() -> Iterator[object]:
    with chromium_page(*PHONE) as page:
        yield page


def test_a_text_from_the_simulator_reaches_the_console_inbox_detail_and_thread(
    local_stack: LocalState, page: object
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    assert local_stack.console_url, "make run printed no console URL"
    wait = DEADLINE_SECONDS * 1000
    contact = "+15005550231"
    body = f"<img src=x onerror=alert(1)> console {uuid.uuid4().hex[:8]}"
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The simulator links to the console with the demo login.
    page.goto(local_stack.simulator_url)
    link = page.locator("#console-url")
    expect(link).to_have_attribute("href", local_stack.console_url)
    expect(page.locator("#console-login")).to_contain_text(local_stack.console_email)

    # Sign in with the demo admin: the inbox of the demo account.
    link.click()
    sign_in(page, None, local_stack.console_email, DEMO_CONSOLE_PASSWORD)
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible(timeout=wait)
    # The stack is shared by the e2e tests: other accounts may exist and sort first, so pick
    # the demo account as a user would (the picker routes to that account's inbox).
    if page.locator("#account").input_value() != local_stack.demo_account:
        page.select_option("#account", local_stack.demo_account)
        expect(page).to_have_url(re.compile(f"#/inbox/{local_stack.demo_account}\\b"), timeout=wait)
    expect(page.locator("#account")).to_have_value(local_stack.demo_account)
    expect(page.locator("#who")).to_have_text(local_stack.console_email)
    console_page = page.url
    # Today's figures before this test's text: it must make them go up.
    received_before = wait_for("today's received count", lambda: figure(page, "today-received"))
    sent_before = wait_for("today's sent count", lambda: figure(page, "today-sent"))

    # A text sent on the simulator (in a second tab) appears here without a reload.
    simulator = page.context.new_page()
    simulator.goto(local_stack.simulator_url)
    simulator.fill("#contact", contact)
    simulator.select_option("#number", local_stack.demo_number)
    simulator.fill("#body", body)
    simulator.click("#send")
    expect(simulator.locator("#send-status")).to_contain_text("the stack answered 200")
    simulator.close()

    message = page.locator(".messages li", has_text=body)
    expect(message.locator(".body")).to_have_text(body, timeout=wait)  # shown as text
    assert page.url == console_page  # no navigation happened: the poll brought it
    assert page.locator("main img").count() == 0
    wait_for("today's received count to count the text", lambda: figure_above(
        page, "today-received", received_before))  # fmt: skip
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-inbox.png"), full_page=True)

    # Its detail: the parameters, and the action log of the auto-reply.
    message.get_by_role("link", name="Details").click()
    expect(page.get_by_role("heading", name="Action log")).to_be_visible(timeout=wait)
    expect(page.locator("dl.params")).to_contain_text(body)
    expect(page.locator("table tbody tr").first).to_be_visible(timeout=wait)
    page.screenshot(path=str(ARTIFACTS / "console-message.png"), full_page=True)

    # The contact's thread: the text, then the auto-reply with its delivery status, in order.
    page.get_by_role("link", name="Thread").click()
    expect(page.get_by_role("heading", name=f"Thread with {contact}")).to_be_visible()
    entries = page.locator("ol.thread > li")
    expect(entries.nth(1)).to_have_class(re.compile(r"\boutbound\b"), timeout=wait)
    expect(entries.nth(0)).to_have_class(re.compile(r"\binbound\b"))
    expect(entries.nth(0).locator(".body")).to_have_text(body)
    # Today's strip counted the auto-reply (the send's counter), brought by the poll.
    wait_for("today's sent count to count the auto-reply", lambda: figure_above(
        page, "today-sent", sent_before))  # fmt: skip
    expect(page.locator("#today-failed")).to_have_text(re.compile(r"^\d+$"))
    expect(entries.nth(1).locator(".badge")).to_have_text(re.compile(r"queued|sent|delivered"))
    page.screenshot(path=str(ARTIFACTS / "console-thread.png"), full_page=True)

    # Signing out forgets the session: a reload shows the sign-in form.
    page.get_by_role("button", name="Sign out").click()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert errors == []


def figure(page: Any, element_id: str) -> int | None:
    """One of today's figures as the page shows it, or None while it shows none yet."""
    shown = page.locator(f"#{element_id}").inner_text().strip()
    return int(shown) if shown.isdigit() else None


def figure_above(page: Any, element_id: str, before: int) -> bool | None:
    now = figure(page, element_id)
    return True if now is not None and now > before else None
