"""When a conversation's timer branch wakes: at the next reminder or the deadline, or sooner
when polling is configured (emulators whose Parallel state waits for every branch)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sms_automation.conversations.service import Conversations

NOW = datetime(2026, 11, 26, 18, 0, 0, 250_000, tzinfo=UTC)


def service(poll_seconds: int) -> Conversations:
    unused: Any = None  # the timer arithmetic touches no store, workflow or port
    return Conversations(
        store=unused, workflow=unused, port_for=unused, clock=lambda: NOW, poll_seconds=poll_seconds
    )


def test_timer_due_is_the_due_time_without_polling() -> None:
    assert service(0)._timer_due("2026-11-27T18:00:00Z") == "2026-11-27T18:00:00Z"


def test_timer_due_is_the_next_poll_when_that_comes_first() -> None:
    assert service(2)._timer_due("2026-11-27T18:00:00Z") == "2026-11-26T18:00:02Z"


@pytest.mark.parametrize("due", ["2026-11-26T18:00:01Z", "2026-11-26T17:00:00Z"])
def test_timer_due_keeps_a_due_time_before_the_next_poll(due: str) -> None:
    assert service(2)._timer_due(due) == due
