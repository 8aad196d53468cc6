"""A viewer's journey through the console on the local stack, in headless Chromium: a viewer
invited with the CLI (``console add-user --role viewer``) signs in and reads every page — a
thread, conversations (one waiting, started by an admin for this test's contact), dead letters,
triggers, automations, accounts — and is shown no control that changes anything: no reply box
or Take over, no Cancel, no Redrive, no Push or Roll back, no start form, no receive toggle,
Connect or token form. The API refuses their push and their automation start anyway (403),
while the same start by an admin is taken."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from sms_automation_local.state import LocalState
from tests.e2e.browser import chromium_page, sign_in
from tests.e2e.conftest import sms_automation
from tests.e2e.polling import DEADLINE_SECONDS
from tests.e2e.test_console_api import PASSWORD, console_url, send, signed_in

pytestmark = pytest.mark.e2e

__all__ = ["console_url"]  # the API's URL fixture, shared with the API test

CONTACT = "+15005550251"  # this test's own contact
VIEWER = "viewer-journey@example.com"
REMINDER = "appointment-reminder"


@pytest.fixture
def page() -> Iterator[object]:
    with chromium_page() as page:  # a desktop: every page's controls would show side by side
        yield page


def test_a_viewer_reads_every_page_sees_no_edit_control_and_the_api_refuses_their_writes(
    local_stack: LocalState, cli_env: dict[str, str], console_url: str, page: object
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    wait = DEADLINE_SECONDS * 1000
    demo = local_stack.demo_account
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Something to read: a text from the contact (a thread) and a reminder waiting for its answer.
    body = f"viewer journey {uuid.uuid4().hex[:8]}"
    sent = sms_automation(cli_env, "simulate", "sms", "--from", CONTACT, "--body", body, "--json")
    assert sent.returncode == 0, sent.stderr
    viewer = signed_in(local_stack, cli_env, VIEWER, "--role", "viewer", "--account", demo)
    admin = signed_in(local_stack, cli_env, "admin-viewer-journey@example.com", "--role", "admin")
    start = {
        "to": CONTACT,
        "variables": {"patient": "Ann", "appointment": "tomorrow at 10:00"},
        "idempotency_key": f"viewer-journey-{uuid.uuid4().hex[:12]}",
    }
    runs = f"{console_url}/accounts/{demo}/automations/{REMINDER}/runs"
    assert send("POST", runs, viewer, start) == 403  # the API refuses the viewer's start
    assert send("POST", runs, admin, start) in (200, 201)
    live = f"{console_url}/accounts/{demo}/triggers"
    assert send("PUT", live, viewer, {"text": "triggers: []\n", "expected_version": 1}) == 403

    sign_in(page, local_stack.console_url, VIEWER, PASSWORD)
    base = local_stack.console_url

    # The thread: the text, and no reply box, no Take over.
    page.goto(f"{base}#/thread/{demo}/{CONTACT.replace('+', '%2B')}")
    expect(page.locator("ol.thread .body", has_text=body)).to_be_visible(timeout=wait)
    for control in ("#take-over", "#hand-back", "#reply-text", "#reply-send"):
        assert page.locator(control).count() == 0, control

    # Conversations: the reminder waits for an answer, and there is no Cancel.
    page.goto(f"{base}#/conversations/{demo}")
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible(timeout=wait)
    waiting = page.locator("main li[data-id]", has_text=CONTACT).first
    expect(waiting).to_be_visible(timeout=wait)
    assert page.get_by_role("button", name="Cancel conversation").count() == 0

    # Dead letters: listed (or none), never a Redrive.
    page.goto(f"{base}#/dead-letters")
    expect(page.get_by_role("list", name="dead letters").locator("li").first).to_be_visible(
        timeout=wait
    )
    assert page.get_by_role("button", name="Redrive").count() == 0

    # Triggers: read, validate and test — no Push, no Roll back.
    page.goto(f"{base}#/triggers/{demo}")
    expect(page.locator("#read-only")).to_be_visible(timeout=wait)
    expect(page.get_by_role("button", name="Validate")).to_be_visible()
    expect(page.locator("#history button").first).to_be_visible(timeout=wait)  # history read
    assert page.locator("#push").count() == 0
    assert page.get_by_role("button", name="Roll back", exact=False).count() == 0

    # Automations: each automation described, no start form; the runs listed.
    page.goto(f"{base}#/automations/{demo}")
    expect(page.get_by_role("heading", name=REMINDER)).to_be_visible(timeout=wait)
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    assert page.locator("main form").count() == 0

    # Accounts: the URL and the numbers, no receive toggle, no Connect, no token form.
    page.goto(f"{base}#/accounts/{demo}")
    expect(page.locator(f'tr[data-number="{local_stack.demo_number}"]')).to_be_visible(timeout=wait)
    for name in ("Start receiving", "Stop receiving", "Replace auth token"):
        assert page.get_by_role("button", name=name).count() == 0, name
    assert page.get_by_role("button", name="Connect", exact=False).count() == 0
    assert page.locator("#auth-token").count() == 0
    assert errors == []
