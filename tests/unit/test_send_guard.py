"""The send cap's rule and its optimistic counting, over an in-memory counter (the DynamoDB
adapter is tested with moto in tests/integration/test_send_counter.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from sms_automation.send_cap import DEFAULT_SEND_CAP, SendCap
from sms_automation.send_guard import (
    WRITE_ATTEMPTS,
    CounterUnavailable,
    Lane,
    LaneCount,
    Refusal,
    SendGuard,
    decide,
    slot_of,
)

LANE = Lane("acme", "+15005550006", "+14155550101")
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class MemoryCounter:
    """Lanes in a dict, with the adapter's contract: a write succeeds only at the version read.
    ``before_write`` lets a test slip a concurrent writer in between a read and a write."""

    def __init__(self) -> None:
        self.lanes: dict[Lane, LaneCount] = {}
        self.expires: dict[Lane, int] = {}
        self.before_write: Callable[[], None] = lambda: None
        self.writes = 0

    def read(self, lane: Lane) -> LaneCount:
        return self.lanes.get(lane, LaneCount())

    def write(self, lane: Lane, slots: Mapping[str, int], *, seen: int, expires_at: int) -> bool:
        self.before_write()
        if self.read(lane).version != seen:
            return False
        self.writes += 1
        self.lanes[lane] = LaneCount(dict(slots), seen + 1)
        self.expires[lane] = expires_at
        return True


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def guard(
    counter: MemoryCounter, clock: Clock, cap: SendCap = DEFAULT_SEND_CAP
) -> tuple[SendGuard, list[Refusal]]:
    refused: list[Refusal] = []
    return SendGuard(counter, lambda account: cap, clock, refused.append), refused


def test_the_default_cap_is_ten_per_ten_minutes() -> None:
    assert (DEFAULT_SEND_CAP.count, DEFAULT_SEND_CAP.window_seconds) == (10, 600)


def test_sends_are_admitted_up_to_the_cap_then_refused_with_the_reason() -> None:
    counter, clock = MemoryCounter(), Clock()
    send_guard, refused = guard(counter, clock, SendCap(3, 300))

    answers = [send_guard.admit(LANE, f"step-{n}") for n in range(4)]

    assert answers[:3] == [None, None, None]
    assert answers[3] == Refusal(LANE, 3, SendCap(3, 300))
    assert refused == [answers[3]]
    assert answers[3].detail == (
        "not sent: 3 automatic messages to +1********01 from +1********06 in the last 5 minutes "
        "(the account's send cap)"
    )


def test_a_step_counted_already_is_admitted_again_without_a_second_count() -> None:
    counter, clock = MemoryCounter(), Clock()
    send_guard, _ = guard(counter, clock, SendCap(2, 600))

    assert send_guard.admit(LANE, "step-1") is None
    assert send_guard.admit(LANE, "step-1") is None  # a retry of the same step
    assert send_guard.admit(LANE, "step-2") is None
    assert send_guard.admit(LANE, "step-1") is None  # at the cap, still its own slot

    assert counter.read(LANE).slots.keys() == {slot_of("step-1"), slot_of("step-2")}
    assert counter.writes == 2


def test_the_window_rolls_slots_older_than_it_are_dropped() -> None:
    counter, clock = MemoryCounter(), Clock()
    send_guard, _ = guard(counter, clock, SendCap(2, 600))
    send_guard.admit(LANE, "a")
    clock.now += timedelta(minutes=6)
    send_guard.admit(LANE, "b")
    assert send_guard.admit(LANE, "c") is not None

    clock.now += timedelta(minutes=4, seconds=1)  # "a" is now older than ten minutes

    assert send_guard.admit(LANE, "c") is None
    assert counter.read(LANE).slots.keys() == {slot_of("b"), slot_of("c")}
    expected_expiry = int(clock.now.timestamp()) + 600 + 60
    assert counter.expires[LANE] == expected_expiry


def test_each_lane_counts_on_its_own() -> None:
    counter, clock = MemoryCounter(), Clock()
    send_guard, _ = guard(counter, clock, SendCap(1, 60))
    other_contact = Lane("acme", LANE.sender, "+14155550102")
    other_sender = Lane("acme", "+15005550007", LANE.contact)

    assert [send_guard.admit(lane, "k") for lane in (LANE, other_contact, other_sender)] == [
        None,
        None,
        None,
    ]


def test_a_concurrent_send_taking_the_last_slot_is_seen_and_this_one_refused() -> None:
    counter, clock = MemoryCounter(), Clock()
    send_guard, _ = guard(counter, clock, SendCap(2, 600))
    send_guard.admit(LANE, "first")

    def another_lambda_takes_the_last_slot() -> None:
        counter.before_write = lambda: None
        stored = counter.read(LANE)
        now_ms = int(clock.now.timestamp() * 1000)
        counter.lanes[LANE] = LaneCount({**stored.slots, "other": now_ms}, stored.version + 1)

    counter.before_write = another_lambda_takes_the_last_slot

    refusal = send_guard.admit(LANE, "mine")

    assert refusal is not None
    assert refusal.counted == 2
    assert slot_of("mine") not in counter.read(LANE).slots


def test_a_lane_that_stays_busy_is_unavailable_for_now() -> None:
    counter, clock = MemoryCounter(), Clock()
    send_guard, _ = guard(counter, clock)
    attempts = []

    def always_someone_else() -> None:
        attempts.append(1)
        stored = counter.lanes.get(LANE, LaneCount())
        counter.lanes[LANE] = LaneCount(stored.slots, stored.version + 1)

    counter.before_write = always_someone_else

    with pytest.raises(CounterUnavailable, match="busy"):
        send_guard.admit(LANE, "k")
    assert len(attempts) == WRITE_ATTEMPTS


def test_decide_admits_a_known_slot_without_counting_it_and_says_nothing_changed() -> None:
    lane = LaneCount({"s": 1_000}, 1)

    decision = decide(lane, "s", 2_000, SendCap(1, 60))

    assert (decision.admitted, decision.changed, decision.counted) == (True, False, 0)


@pytest.mark.parametrize(
    ("count", "window"), [(0, 600), (101, 600), (10, 30), (10, 90), (10, 24 * 3600 + 60)]
)
def test_a_cap_out_of_bounds_is_refused(count: int, window: int) -> None:
    with pytest.raises(ValueError, match="send cap"):
        SendCap(count, window)
