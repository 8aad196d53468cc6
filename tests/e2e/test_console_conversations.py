"""The Conversations and Audit pages on the local stack, in headless Chromium, with the demo
account's BOOK trigger (a wait for YES or NO, two minutes): a conversation started and answered
on the phone simulator resolves on the page without a reload; another is cancelled from the page
(its contact's next text runs the triggers again), and the Audit page shows who cancelled it.

Each test has its own contact numbers (the stack is shared by the e2e tests). Screenshots are
kept under ``.local/artifacts/``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sms_automation_local.demo import DEMO_CONSOLE_PASSWORD
from sms_automation_local.layout import ROOT
from sms_automation_local.state import LocalState
from tests.e2e.browser import chromium_page, sign_in
from tests.e2e.polling import DEADLINE_SECONDS, wait_for
from tests.e2e.stack_records import settled
from tests.e2e.texting import BOOK_PROMPT, HELP, replies_to

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / ".local" / "artifacts"


@pytest.fixture
def page() -> Iterator[object]:
    with chromium_page() as page:
        yield page


def sign_in_at(page: Any, stack: LocalState, hash_route: str) -> None:
    """Open the console at ``hash_route`` and sign in as the demo admin: the page opens there."""
    sign_in(page, f"{stack.console_url}{hash_route}", stack.console_email, DEMO_CONSOLE_PASSWORD)


def text_from_simulator(page: Any, stack: LocalState, contact: str, body: str) -> None:
    """Send ``body`` from ``contact`` to the demo number on the simulator page (a second tab)."""
    from playwright.sync_api import expect

    simulator = page.context.new_page()
    simulator.goto(stack.simulator_url)
    simulator.fill("#contact", contact)
    simulator.select_option("#number", stack.demo_number)
    simulator.fill("#body", body)
    simulator.click("#send")
    expect(simulator.locator("#send-status")).to_contain_text("the stack answered 200")
    simulator.close()


def prompted(stack: LocalState, contact: str) -> None:
    def sent() -> bool | None:
        return BOOK_PROMPT in {m["body"] for m in replies_to(stack, contact)} or None

    wait_for("the prompt", sent)


def test_an_answered_conversation_resolves_on_the_conversations_page(
    local_stack: LocalState, page: object
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    wait = DEADLINE_SECONDS * 1000
    contact = "+15005550261"
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_at(page, local_stack, f"#/conversations/{local_stack.demo_account}?state=all")
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible(timeout=wait)
    expect(page.locator("#show-ended")).to_be_checked()

    text_from_simulator(page, local_stack, contact, "book")
    prompted(local_stack, contact)
    row = page.locator("ul.conversations > li", has_text=contact)
    expect(row.locator(".badge")).to_have_text("waiting", timeout=wait)  # the poll brought it
    expect(row).to_contain_text(BOOK_PROMPT)
    expect(row).to_contain_text("Deadline")
    expect(row.get_by_role("button", name="Cancel conversation")).to_be_visible()  # an admin

    text_from_simulator(page, local_stack, contact, "YES")
    expect(row.locator(".badge")).to_have_text("replied", timeout=wait)  # no reload
    expect(row).to_contain_text("Ended")
    expect(row.get_by_role("button", name="Cancel conversation")).to_have_count(0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-conversations.png"), full_page=True)
    assert errors == []


def test_an_operator_cancels_a_conversation_and_the_audit_page_shows_it(
    local_stack: LocalState, page: object
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    wait = DEADLINE_SECONDS * 1000
    contact = "+15005550262"
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    text_from_simulator(page, local_stack, contact, "book")
    prompted(local_stack, contact)

    sign_in_at(page, local_stack, f"#/conversations/{local_stack.demo_account}")
    row = page.locator("ul.conversations > li", has_text=contact)
    expect(row.locator(".badge")).to_have_text("waiting", timeout=wait)
    row.get_by_role("button", name="Cancel conversation").click()
    row.get_by_role("button", name="Yes, cancel it").click()
    cancelled = f"Conversation with {contact} cancelled"
    expect(page.locator("#status")).to_contain_text(cancelled, timeout=wait)
    expect(row).to_have_count(0, timeout=wait)  # no longer waiting

    # The contact is free again: their next text runs the triggers (HELP answers), not the
    # cancelled conversation (no reprompt); counted once that text is settled in the stack.
    text_from_simulator(page, local_stack, contact, "help")
    wait_for("the help reply", lambda: len(replies_to(local_stack, contact)) >= 2 or None)
    recorded = wait_for("the help text settled", lambda: help_settled(local_stack, contact))
    assert [c["status"] for c in recorded["conversations"]] == ["cancelled"]
    bodies = sorted(m["body"] for m in replies_to(local_stack, contact))
    assert bodies == sorted([BOOK_PROMPT, HELP]), bodies

    # The Audit page, from the navigation: who cancelled which conversation, the number masked.
    page.get_by_role("navigation", name="pages").get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit")).to_be_visible(timeout=wait)
    entry = page.locator("table.audit tbody tr", has_text="conversation.cancel").first
    expect(entry).to_contain_text(local_stack.console_email, timeout=wait)
    expect(entry).to_contain_text(re.compile(r"contact: \+1\*+62"))
    expect(entry).not_to_contain_text(contact)
    page.screenshot(path=str(ARTIFACTS / "console-audit.png"), full_page=True)
    assert errors == []


def help_settled(stack: LocalState, contact: str) -> dict[str, Any] | None:
    """The simulator's view of the stack for ``contact`` once the newest of their two texts (the
    HELP) is settled: its evaluation finished, no step running."""
    answer = requests.get(
        f"{stack.sandbox_url}/simulator/api/stack",
        params={"contact": contact, "number": stack.demo_number},
        timeout=10,
    )
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    messages = found["messages"]
    return found if len(messages) == 2 and settled(messages[0]) else None
