"""A send_sms step meets the send guard before Twilio: over the cap it fails with the reason and
sends nothing; a counter that cannot answer makes it not performed (retried), never sent
uncounted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from sms_automation.processing.effects import Effects, EffectSettings
from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import NotPerformed
from sms_automation.send_cap import SendCap
from sms_automation.send_guard import CounterUnavailable, Lane, LaneCount, SendGuard
from sms_automation.triggers import SendSms
from tests.support.fakes import InMemoryRecordTables

STEP = SendSms(
    step_id="t/1",
    trigger="t",
    to="+14155550101",
    from_="+15005550006",
    messaging_service_sid=None,
    body="hi",
)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


class FullLane:
    """A lane already holding ``count`` other sends in the window."""

    def __init__(self, count: int) -> None:
        now_ms = int(NOW.timestamp() * 1000)
        self.lane = LaneCount({f"other-{n}": now_ms for n in range(count)}, 1)
        self.lanes: list[Lane] = []

    def read(self, lane: Lane) -> LaneCount:
        self.lanes.append(lane)
        return self.lane

    def write(self, lane: Lane, slots: Mapping[str, int], *, seen: int, expires_at: int) -> bool:
        raise AssertionError("a refusal of an unchanged lane writes nothing")


class Unavailable:
    def read(self, lane: Lane) -> LaneCount:
        raise CounterUnavailable("could not read the send count: ThrottlingException")

    def write(self, lane: Lane, slots: Mapping[str, int], *, seen: int, expires_at: int) -> bool:
        raise AssertionError("never reached")


def effects(counter: Any) -> Effects:
    def no_messaging() -> Any:
        raise AssertionError("nothing may reach Twilio")

    def no_outbound(**_: Any) -> None:
        raise AssertionError("nothing was sent")

    return Effects(
        message_sid="SM" + "0" * 32,
        messaging=no_messaging,
        records=InMemoryRecordTables(),
        settings=EffectSettings(status_callback_url=None, records_table="records"),
        record_outbound=no_outbound,
        owners=lambda sid: None,
        clock=lambda: NOW,
        account="acme",
        send_guard=SendGuard(counter, lambda account: SendCap(3, 600), lambda: NOW),
    )


def test_a_send_over_the_cap_fails_with_the_reason_and_reaches_no_one() -> None:
    counter = FullLane(3)

    result = effects(counter).perform(STEP, "key")

    assert result.state is StepState.FAILED
    assert result.detail.startswith("not sent: 3 automatic messages to +1********01 from")
    assert counter.lanes == [Lane("acme", "+15005550006", "+14155550101")]


def test_a_counter_that_cannot_answer_is_not_performed_and_retried() -> None:
    with pytest.raises(NotPerformed, match="ThrottlingException"):
        effects(Unavailable()).perform(STEP, "key")
