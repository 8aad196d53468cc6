"""Waiting in the end-to-end tests: polling with a bounded deadline (never asserting a time)."""

from __future__ import annotations

import time
from collections.abc import Callable

DEADLINE_SECONDS = 90.0  # a cold trigger processor and its first Twilio call fit many times over


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
