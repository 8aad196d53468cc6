"""The console's Automations and Accounts pages on the local stack, in headless Chromium at
phone size: the demo admin starts the demo's appointment reminder from the form built from its
inputs (a required input left empty is named at its field by the API first), sees the run in
the runs list and follows it to its action log, where the prompt it sent shows; the Accounts
page shows the Messaging Request URL and the demo number pointing here, and no auth token.

Screenshots are kept under ``.local/artifacts/``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from sms_automation_local.demo import DEMO_CONSOLE_PASSWORD
from sms_automation_local.layout import ROOT
from sms_automation_local.state import LocalState
from tests.e2e.browser import chromium_page, sign_in
from tests.e2e.polling import DEADLINE_SECONDS

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / ".local" / "artifacts"
PHONE = (390, 844)
CONTACT = "+15005550243"  # this test's own contact: its run leaves a conversation waiting
FORM = "#automation-appointment-reminder"


@pytest.fixture
def page() -> Iterator[object]:
    with chromium_page(*PHONE) as page:
        yield page


def test_an_admin_starts_an_automation_from_its_form_and_sees_the_number_pointing_here(
    local_stack: LocalState, page: object
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    wait = DEADLINE_SECONDS * 1000
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    refused: list[str] = []  # the API's refusals, to say what went wrong if a step fails
    page.on("response", lambda r: refused.append(f"{r.status} {r.request.method} {r.url}")
            if "/console/api/" in r.url and r.status >= 400 else None)  # fmt: skip
    sign_in(page, local_stack.console_url, local_stack.console_email, DEMO_CONSOLE_PASSWORD)
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible(timeout=wait)

    # The Automations page of the demo account: a form built from the reminder's inputs.
    page.goto(f"{local_stack.console_url}#/automations/{local_stack.demo_account}")
    expect(page.get_by_role("heading", name="Automations")).to_be_visible(timeout=wait)
    form = page.get_by_role("form", name="start appointment-reminder")
    expect(form).to_be_visible(timeout=wait)
    expect(form.get_by_label("patient (required)")).to_have_attribute("required", "")
    expect(form.get_by_label("clinic")).to_have_attribute("placeholder", "the Main Street clinic")

    # The browser's check names the empty required field before anything is sent.
    form.get_by_label("To (the contact)").fill(CONTACT)
    form.get_by_role("button", name="Start").click()
    expect(form.get_by_label("patient (required)")).to_have_attribute("aria-invalid", "true")

    form.get_by_label("patient (required)").fill("Ann")
    form.get_by_label("appointment (required)").fill("tomorrow at 10:00")
    form.get_by_role("button", name="Start").click()
    started = page.locator("#status")
    try:
        expect(started).to_contain_text("Started: run RU", timeout=wait)
    except AssertionError:
        raise AssertionError(f"{form.inner_text()!r} {refused} {errors}") from None
    run_id = re.search(r"RU[0-9a-f]{32}", page.locator("#status").inner_text())
    assert run_id is not None
    row = page.locator("tr", has=page.get_by_role("link", name=run_id.group()))
    expect(row).to_contain_text("appointment-reminder", timeout=wait)
    expect(row).to_contain_text("console")
    # The runs list stays live: the run leaves "queued" once the processor has it.
    expect(row.locator(".badge")).to_have_text(re.compile("running|paused|completed"), timeout=wait)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-automations.png"), full_page=True)

    row.get_by_role("link", name=run_id.group()).click()
    expect(page.get_by_role("heading", name=f"Run {run_id.group()}")).to_be_visible(timeout=wait)
    expect(page.locator("#run-log")).to_contain_text("appointment-reminder/1", timeout=wait)
    expect(page.locator("dl.params").first).to_contain_text("admin@")

    # The Accounts page: the URL to copy, and the demo number pointing here.
    page.goto(f"{local_stack.console_url}#/accounts/{local_stack.demo_account}")
    expect(page.get_by_role("heading", name=f"Account {local_stack.demo_account}")).to_be_visible(
        timeout=wait
    )
    url = f"{local_stack.webhook_base_url}/twilio/{local_stack.demo_account}/sms"
    expect(page.locator("#request-url")).to_have_value(url)
    number = page.locator(f'tr[data-number="{local_stack.demo_number}"]')
    expect(number).to_contain_text(url, timeout=wait)
    expect(number.locator(".badge")).to_have_text("yes")
    expect(page.get_by_label("New auth token")).to_have_value("")  # an admin may replace it
    page.get_by_role("button", name="Verify Twilio Account").click()
    expect(page.locator("#verification")).to_contain_text("Verified", timeout=wait)
    page.screenshot(path=str(ARTIFACTS / "console-accounts.png"), full_page=True)
    assert errors == []
