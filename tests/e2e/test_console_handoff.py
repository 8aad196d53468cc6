"""The human handoff on the local stack, in headless Chromium: a contact writes in and gets the
demo catch-all's answer; the demo admin takes the contact over on its thread page, replies by
hand (the sandbox's outbox receives the SMS, the thread shows it with its text); a text from
the contact meanwhile gets no automatic answer (the catch-all's step is paused in its action
log); after Hand back the next text is answered again. Its own contact number; screenshots
under ``.local/artifacts/``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from sms_automation_local.demo import DEMO_CONSOLE_PASSWORD
from sms_automation_local.layout import ROOT
from sms_automation_local.state import LocalState
from tests.e2e.browser import chromium_page, sign_in
from tests.e2e.polling import DEADLINE_SECONDS, wait_for
from tests.e2e.texting import AUTO_REPLY, replies_to, send

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / ".local" / "artifacts"
CONTACT = "+15005550241"


@pytest.fixture
def page() -> Iterator[object]:
    with chromium_page(390, 844) as page:
        yield page


def bodies(stack: LocalState) -> list[str]:
    return [str(m["body"]) for m in replies_to(stack, CONTACT)]


def test_take_over_reply_by_hand_stay_silent_then_hand_back(
    local_stack: LocalState, page: object
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    wait = DEADLINE_SECONDS * 1000
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    tag = uuid.uuid4().hex[:8]

    # The contact writes in and gets the demo catch-all's automatic reply.
    send(local_stack, CONTACT, f"hello {tag}")
    wait_for("the first auto-reply", lambda: AUTO_REPLY in bodies(local_stack) or None)

    # Sign in as the demo admin and open the contact's thread.
    sign_in(page, local_stack.console_url, local_stack.console_email, DEMO_CONSOLE_PASSWORD)
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible(timeout=wait)
    thread_url = f"{local_stack.console_url}#/thread/{local_stack.demo_account}/{CONTACT}"
    page.goto(thread_url)
    expect(page.get_by_role("heading", name=f"Thread with {CONTACT}")).to_be_visible(timeout=wait)

    # Take over: the banner says who and since when.
    page.get_by_role("button", name="Take over").click()
    banner = page.locator("#takeover-banner")
    expect(banner).to_contain_text(f"Taken over by {local_stack.console_email} since", timeout=wait)
    expect(page.get_by_role("button", name="Hand back")).to_be_visible()

    # Reply by hand: the counter counts, the sandbox receives it once, the thread shows it.
    reply = f"Hello, a person here ({tag}) — how can I help?"
    page.fill("#reply-text", reply)
    counted = re.compile(r"^\d+ / 1600 characters · 1 segment")
    expect(page.locator("#reply-count")).to_have_text(counted)
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#reply-status")).to_contain_text("Sent", timeout=wait)
    shown = page.locator("ol.thread > li.outbound", has_text=reply)
    expect(shown.locator(".body")).to_have_text(reply, timeout=wait)
    wait_for("the reply in the sandbox", lambda: bodies(local_stack).count(reply) or None)

    # A text while taken over: evaluated (the catch-all matched), but nothing is sent.
    quiet = f"are you there {tag}"
    send(local_stack, CONTACT, quiet)
    inbound = page.locator("ol.thread > li.inbound", has_text=quiet)
    expect(inbound).to_be_visible(timeout=wait)  # the poll brought it
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-takeover.png"), full_page=True)
    inbound.get_by_role("link", name="Details").click()
    expect(page.get_by_role("heading", name="Action log")).to_be_visible(timeout=wait)
    expect(page.locator("table tbody")).to_contain_text("paused: taken over by", timeout=wait)
    assert sorted(bodies(local_stack)) == sorted([AUTO_REPLY, reply])

    # Hand back: the banner goes, and the next text gets the automatic reply again.
    page.goto(thread_url)
    page.get_by_role("button", name="Hand back").click()
    expect(banner).to_be_hidden(timeout=wait)
    send(local_stack, CONTACT, f"back to normal {tag}")
    answered_again = lambda: bodies(local_stack).count(AUTO_REPLY) == 2 or None  # noqa: E731
    wait_for("the auto-reply after hand-back", answered_again)
    assert sorted(bodies(local_stack)) == sorted([AUTO_REPLY, reply, AUTO_REPLY])
    assert errors == []
