"""Headless Chromium for the page tests: Debian's ``chromium`` driven by Playwright (no browser
download). Without chromium a test skips outside CI and fails in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

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


@contextmanager
def chromium_page(width: int = 1200, height: int = 900) -> Iterator[object]:
    """A fresh page (a ``playwright.sync_api.Page``) in its own browser, closed afterwards."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            yield context.new_page()  # page.context.new_page() opens a second tab
        finally:
            browser.close()


def sign_in(page: object, url: str | None, email: str, password: str) -> None:
    """Sign in to the console at ``url`` (``None``: the page shows its sign-in form already)
    and wait until it names the user."""
    from playwright.sync_api import Page, expect

    from tests.e2e.polling import DEADLINE_SECONDS

    assert isinstance(page, Page)
    if url is not None:
        page.goto(url)
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text(email, timeout=DEADLINE_SECONDS * 1000)
