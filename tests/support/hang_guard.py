"""A hang guard for tests that feed hostile input to code that must not stall: the call runs in
a daemon thread and the test fails if it has not returned within a generous bound. Not a timing
assert: the bound is far above any sane run (milliseconds); only a stalled call reaches it."""

from __future__ import annotations

import threading
from collections.abc import Callable

HANG_GUARD_SECONDS = 60.0


def run_guarded[T](action: Callable[[], T], seconds: float = HANG_GUARD_SECONDS) -> T:
    """``action()``, re-raising what it raised; fails if it is still running after ``seconds``."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as error:  # re-raised below, in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"stalled: still running after {seconds:.0f} s"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
