"""Reading the Twilio sandbox the way a client of Twilio would: its REST API with the demo
account's credentials; polling with a bounded deadline (never asserting a time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sms_automation.local.sandbox_api import list_resources
from sms_automation.local.state import LocalState

DEADLINE_SECONDS = 90.0  # a cold trigger processor and its first Twilio call fit many times over


def listed(stack: LocalState, collection: str, **filters: str) -> list[dict[str, Any]]:
    return list_resources(stack.sandbox_url, collection, **filters)


def wait_for[T](what: str, probe: Callable[[], T | None]) -> T:
    """``probe()`` until it returns something; fails with ``what`` after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.5)
