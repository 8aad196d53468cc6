"""The console's screenshots in docs/console.md, taken from a running local stack (`make run`, or
any stack whose state file ``$SMS_AUTOMATION_LOCAL_STATE`` names): ``make console-screenshots``.

Headless Chromium (Debian's, as the e2e tests drive it) signs in as the demo admin, texts the
demo number from the phone simulator (the demo trigger answers), starts the appointment reminder
from its form (a conversation then waits for the answer), and captures at a desktop width the
inbox, the contact's thread, the text's action log, the conversations, the triggers (the editor
and the flow diagram), the automations and the account; and the inbox at a phone's width. Each
PNG goes to docs/images/console-*.png, squeezed by ``pngquant`` when it is installed (Debian's
``pngquant``: a 256-colour palette, a fraction of the size; without it the PNGs are kept as
Chromium wrote them, several times larger).

Run it on a fresh stack: every run texts and starts a reminder again, and the pages show the
newest first.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sms_automation_local.demo import DEMO_CONSOLE_PASSWORD
from sms_automation_local.layout import ROOT
from sms_automation_local.state import LocalState, load_state
from tests.e2e.browser import chromium_page, sign_in

IMAGES = ROOT / "docs" / "images"
DESKTOP = (1280, 800)
PHONE = (390, 844)
# Its own contact, no e2e test's: the reminder it starts leaves a conversation waiting on it,
# which would take that test's next text on the same stack as the answer.
CONTACT = "+15005550271"
TEXT = "Hi! Can I move my appointment to Friday afternoon?"
WAIT_MS = 90_000


def capture(stack: LocalState, images: Path = IMAGES) -> list[Path]:
    """Every screenshot, written under ``images``; their paths."""
    from playwright.sync_api import Page, expect

    images.mkdir(parents=True, exist_ok=True)
    base, demo = stack.console_url, stack.demo_account
    shots: list[Path] = []

    def shot(page: Page, name: str) -> None:
        path = images / f"console-{name}.png"
        page.wait_for_timeout(300)  # (the last poll's paint; a picture, not a test)
        page.screenshot(path=str(path), full_page=False)
        shots.append(path)

    with chromium_page(*DESKTOP) as opened:
        page: Any = opened
        sign_in(page, base, stack.console_email, DEMO_CONSOLE_PASSWORD)
        page.goto(f"{base}#/inbox/{demo}")

        simulator = page.context.new_page()
        simulator.goto(stack.simulator_url)
        simulator.fill("#contact", CONTACT)
        simulator.select_option("#number", stack.demo_number)
        simulator.fill("#body", TEXT)
        simulator.click("#send")
        expect(simulator.locator("#send-status")).to_contain_text("answered 200", timeout=WAIT_MS)
        simulator.close()

        message = page.locator(".messages li", has_text=TEXT).first
        expect(message).to_be_visible(timeout=WAIT_MS)
        shot(page, "inbox")

        message.get_by_role("link", name="Details").click()
        expect(page.locator("table tbody tr").first).to_be_visible(timeout=WAIT_MS)
        shot(page, "message")

        page.get_by_role("link", name="Thread").click()
        entries = page.locator("ol.thread > li")
        expect(entries.nth(1).locator(".badge")).to_have_text(
            re.compile("sent|delivered"), timeout=WAIT_MS
        )
        shot(page, "thread")

        page.goto(f"{base}#/automations/{demo}")
        form = page.get_by_role("form", name="start appointment-reminder")
        form.get_by_label("To (the contact)").fill(CONTACT)
        form.get_by_label("patient (required)").fill("Ann")
        form.get_by_label("appointment (required)").fill("Friday at 15:00")
        form.get_by_role("button", name="Start").click()
        expect(page.locator("#status")).to_contain_text("Started: run RU", timeout=WAIT_MS)
        expect(page.locator("tr .badge").first).to_have_text(
            re.compile("running|paused|completed"), timeout=WAIT_MS
        )
        shot(page, "automations")

        page.goto(f"{base}#/conversations/{demo}")
        expect(page.locator("main li[data-id]", has_text=CONTACT).first).to_be_visible(
            timeout=WAIT_MS
        )
        shot(page, "conversations")

        page.goto(f"{base}#/triggers/{demo}")
        expect(page.locator("#flow .flow-trigger").first).to_be_visible(timeout=WAIT_MS)
        shot(page, "triggers")
        page.locator("#flow-heading").evaluate("heading => heading.scrollIntoView()")
        shot(page, "trigger-flow")

        page.goto(f"{base}#/accounts/{demo}")
        number = page.locator(f'tr[data-number="{stack.demo_number}"]')
        expect(number.locator(".badge")).to_have_text("yes", timeout=WAIT_MS)
        shot(page, "accounts")

        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        page.goto(f"{base}#/inbox/{demo}")
        expect(page.locator(".messages li", has_text=TEXT).first).to_be_visible(timeout=WAIT_MS)
        shot(page, "inbox-phone")
    return shots


def squeeze(paths: list[Path]) -> bool:
    """``pngquant`` each PNG in place (a palette of at most 256 colours); False without it."""
    pngquant = shutil.which("pngquant")
    if pngquant is None:
        return False
    for path in paths:
        subprocess.run(  # noqa: S603 (a fixed tool on our own files)
            [pngquant, "--force", "--skip-if-larger", "--strip", "--quality=60-90",
             "--speed=1", "--ext", ".png", str(path)],
            check=False,
        )  # fmt: skip
    return True


def main() -> int:
    stack = load_state()
    if not stack.console_url:
        print("this stack serves no console: start one with `make run`", file=sys.stderr)
        return 1
    paths = capture(stack)
    squeezed = squeeze(paths)
    total = sum(p.stat().st_size for p in paths)
    for path in paths:
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
    print(f"{len(paths)} screenshots, {total // 1024} KB" + ("" if squeezed else
          " (install pngquant to make them several times smaller)"))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
