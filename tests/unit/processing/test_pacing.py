"""Pacing's rule and its bucket over an in-memory store (the DynamoDB adapter: moto, in
tests/integration/test_pace_store.py): the rate held over every window, replies before a bulk
backlog, a place held in the queue, two senders racing for the last segment, a 429's slow-down.
The clock is the test's; a short wait "sleeps" by moving it; a deferral comes back at its time.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from sms_automation.processing.deferral import delay_seconds
from sms_automation.processing.pacing import (
    MAX_INLINE_WAIT_MS,
    MIN_FACTOR,
    WRITE_ATTEMPTS,
    Bucket,
    Go,
    Later,
    Limits,
    Pacer,
    PacingUnavailable,
    Priority,
    Sender,
    SendPaced,
    decide,
    factor_at,
    segments,
    slowed,
)
from sms_automation.processing.retry_later import Waiting
from sms_automation.send_settings import (
    DEFAULT_RATES,
    SenderType,
    rate_for,
    sender_type,
    validate_rate,
    validate_rate_key,
    validate_rates,
)
from tests.support.fakes import MemoryPaceStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T0 = int(START.timestamp() * 1000)
LONG_CODE = Sender("acme", "+15005550006")
SERVICE = "MG" + "a" * 32


class Clock:
    """Many Lambdas share it: one sleeping does not move the others' time; ``slept`` is the
    last wait slept through."""

    def __init__(self) -> None:
        self.now = START
        self.slept = timedelta(0)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept = timedelta(seconds=seconds)


def pacer(store: MemoryPaceStore, clock: Clock, rates: dict[str, float] | None = None) -> Pacer:
    return Pacer(store, lambda account: rates or {}, clock, clock.sleep)


@dataclass(order=True)
class Due:
    at: datetime
    seq: int
    key: str = field(compare=False)
    priority: Priority = field(compare=False)


def run(
    arrivals: list[tuple[datetime, str, Priority]],
    *,
    rates: dict[str, float] | None = None,
    cost: int = 1,
    costs: dict[str, int] | None = None,
) -> tuple[dict[str, datetime], dict[str, int]]:
    """Sends arriving at their times, each retried when its ``SendPaced`` says, as the retry
    queue delivers a deferral (whole seconds, at least one, at most SQS's 900); returns when each
    went out and how often each was deferred. ``costs``: a send's segments other than ``cost``."""
    store, clock = MemoryPaceStore(), Clock()
    paced = pacer(store, clock, rates)
    queue = [Due(at, n, key, priority) for n, (at, key, priority) in enumerate(arrivals)]
    heapq.heapify(queue)
    sent: dict[str, datetime] = {}
    deferred: dict[str, int] = {}
    seq = len(queue)
    while queue:
        due = heapq.heappop(queue)
        clock.now = max(clock.now, due.at)
        clock.slept = timedelta(0)
        try:
            size = (costs or {}).get(due.key, cost)
            paced.admit(LONG_CODE, cost=size, priority=due.priority, key=due.key)
        except SendPaced as later:
            deferred[due.key] = deferred.get(due.key, 0) + 1
            whole = timedelta(seconds=delay_seconds(later, clock.now))
            seq += 1
            heapq.heappush(queue, Due(clock.now + whole, seq, due.key, due.priority))
            continue
        assert due.key not in sent, "sent twice"
        sent[due.key] = clock.now + clock.slept
    return sent, deferred


def most_in_any_window(times: list[datetime], window: timedelta) -> int:
    ordered = sorted(times)
    return max(
        sum(1 for other in ordered[i:] if other - start < window) for i, start in enumerate(ordered)
    )


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "kind"),
    [
        ("+15005550006", SenderType.LONG_CODE),
        ("+447700900123", SenderType.LONG_CODE),
        ("+18005550100", SenderType.TOLL_FREE),
        ("+18885550100", SenderType.TOLL_FREE),
        ("12345", SenderType.SHORT_CODE),
        (SERVICE, SenderType.MESSAGING_SERVICE),
        ("whatsapp:+18005550100", SenderType.TOLL_FREE),
    ],
)
def test_a_senders_type_is_told_by_its_shape(sender: str, kind: SenderType) -> None:
    assert sender_type(sender) is kind


def test_default_rates_are_twilios_per_sender_type() -> None:
    assert DEFAULT_RATES == {
        SenderType.LONG_CODE: 1.0,
        SenderType.TOLL_FREE: 3.0,
        SenderType.SHORT_CODE: 100.0,
        SenderType.MESSAGING_SERVICE: 1.0,
    }


def test_a_senders_own_rate_beats_its_types_on_the_account_which_beats_the_default() -> None:
    rates = {"long_code": 2.0, "+15005550006": 5.0, SERVICE: 40.0}
    assert rate_for("+15005550006", rates) == 5.0
    assert rate_for("+15005550007", rates) == 2.0
    assert rate_for(SERVICE, rates) == 40.0
    assert rate_for("+18005550100", rates) == 3.0
    assert rate_for("12345", {}) == 100.0


@pytest.mark.parametrize("bad", [0.0, 0.05, 1000.5, float("nan")])
def test_a_rate_out_of_bounds_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="segments a second"):
        validate_rate(bad)


@pytest.mark.parametrize("bad", ["long-code", "5005550006", "MG123", "+0123", "x" * 500])
def test_a_rate_key_that_is_no_type_or_sender_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="neither a sender type"):
        validate_rate_key(bad)


def test_an_account_sets_a_bounded_number_of_rates() -> None:
    with pytest.raises(ValueError, match="at most 50"):
        validate_rates({f"+1500555{n:04d}": 1.0 for n in range(51)})


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # an extension character counts two of 160
        ("€" * 81, 2),
        ("é" * 160, 1),  # in GSM-7's basic set
        ("ç" * 70, 1),  # not in GSM-7 (only Ç is): UCS-2
        ("ç" * 71, 2),
        ("😀" * 35, 1),  # outside the basic plane: two UCS-2 units each
        ("😀" * 36, 2),
    ],
)
def test_segments_are_counted_as_twilio_bills_them(body: str, count: int) -> None:
    assert segments(body) == count


# --- the rule ---------------------------------------------------------------------------------


def test_a_long_code_sends_a_burst_of_replies_then_one_a_second_then_defers() -> None:
    limits = Limits(1.0)
    assert (limits.burst, limits.overdraft) == (1.0, 2.0)
    bucket = Bucket()
    waits = []
    for _ in range(4):
        decision = decide(
            bucket, now_ms=T0, cost=1, priority=Priority.REPLY, limits=limits, held_place=None
        )
        assert isinstance(decision, Go)
        waits.append(decision.wait_ms)
        bucket = decision.bucket
    assert waits == [0, 0, 0, 1000]  # bucket and overdraft, then a wait short enough to sleep
    later = decide(
        bucket, now_ms=T0, cost=1, priority=Priority.REPLY, limits=limits, held_place=None
    )
    assert later == Later(T0 + 2000, None)  # replies never queue: no write, no place


def test_a_long_message_takes_as_many_segments_as_it_has() -> None:
    decision = decide(
        Bucket(), now_ms=T0, cost=3, priority=Priority.REPLY, limits=Limits(1.0), held_place=None
    )
    assert isinstance(decision, Go)
    assert decision.bucket.tat == T0 + 3000


@pytest.mark.parametrize("rate", [1.0, 3.0, 10.0, 100.0])
def test_a_reply_goes_at_once_however_far_ahead_bulk_has_booked_the_sender(rate: float) -> None:
    limits = Limits(rate)
    bucket = Bucket()
    while isinstance(
        bulk := decide(
            bucket, now_ms=T0, cost=1, priority=Priority.BULK, limits=limits, held_place=T0
        ),
        Go,
    ):
        bucket = bulk.bucket
    assert bucket.tat > T0 + MAX_INLINE_WAIT_MS  # bulk booked the next second

    reply = decide(
        bucket, now_ms=T0, cost=1, priority=Priority.REPLY, limits=limits, held_place=None
    )

    assert isinstance(reply, Go)
    assert reply.wait_ms == 0
    more_bulk = decide(
        reply.bucket, now_ms=T0, cost=1, priority=Priority.BULK, limits=limits, held_place=T0
    )
    assert isinstance(more_bulk, Later)  # the reply's segment is bulk's to wait for


def test_the_rate_holds_over_every_window_for_a_burst_of_bulk_sends() -> None:
    arrivals = [(START, f"row-{n}", Priority.BULK) for n in range(60)]

    sent, deferred = run(arrivals, rates={"long_code": 2.0})

    assert len(sent) == 60
    limits = Limits(2.0)
    for seconds in (1, 5, 10, 30):
        window = timedelta(seconds=seconds)
        assert most_in_any_window(list(sent.values()), window) <= 2.0 * seconds + limits.burst
    assert max(sent.values()) - START <= timedelta(seconds=32)  # and not much slower
    assert max(deferred.values()) <= 2  # a place in the queue, not a herd of retries


def test_a_reply_is_not_stuck_behind_a_bulk_backlog() -> None:
    bulk = [(START, f"row-{n}", Priority.BULK) for n in range(100)]
    reply_at = START + timedelta(seconds=10, milliseconds=500)

    sent, deferred = run([*bulk, (reply_at, "reply", Priority.REPLY)])

    assert sent["reply"] - reply_at <= timedelta(milliseconds=MAX_INLINE_WAIT_MS)
    assert "reply" not in deferred
    assert len(sent) == 101
    behind = sum(1 for key, at in sent.items() if key != "reply" and at > sent["reply"])
    assert behind > 80  # the backlog was still there when the reply went
    limits = Limits(1.0)
    bound = 20 + limits.burst + limits.overdraft
    assert most_in_any_window(list(sent.values()), timedelta(seconds=20)) <= bound


def test_a_bulk_send_coming_back_to_its_place_goes_before_later_arrivals() -> None:
    early = [(START, f"early-{n}", Priority.BULK) for n in range(10)]
    late = [(START + timedelta(seconds=3), f"late-{n}", Priority.BULK) for n in range(5)]

    sent, _ = run([*early, *late])

    assert max(sent[f"early-{n}"] for n in range(10)) < min(sent[f"late-{n}"] for n in range(5))


def test_a_bulk_backlog_longer_than_sqs_can_delay_keeps_its_order_and_is_no_herd() -> None:
    rows = 1200  # a long code's 20 minutes: places up to 1200 s ahead, SQS delays 900 s at most
    arrivals = [(START, f"row-{n:04}", Priority.BULK) for n in range(rows)]

    sent, deferred = run(arrivals)

    assert len(sent) == rows
    order = sorted(sent, key=lambda key: (sent[key], key))
    assert order == sorted(sent)  # each went at its place, none ahead of an earlier one
    assert max(deferred.values()) <= 3  # deferred to its place (twice past 900 s), no herd


@pytest.mark.parametrize("cost", [3, 4, 10])
@pytest.mark.parametrize("offset_ms", [0, 300, 500, 900])
def test_a_long_reply_goes_at_once_behind_a_bulk_backlog(cost: int, offset_ms: int) -> None:
    bulk = [(START, f"row-{n}", Priority.BULK) for n in range(100)]
    reply_at = START + timedelta(seconds=10, milliseconds=offset_ms)

    sent, deferred = run([*bulk, (reply_at, "reply", Priority.REPLY)], costs={"reply": cost})

    assert sent["reply"] - reply_at <= timedelta(milliseconds=MAX_INLINE_WAIT_MS)
    assert "reply" not in deferred


def test_a_send_paced_is_a_wait_not_a_failure() -> None:
    store, clock = MemoryPaceStore(), Clock()
    paced = pacer(store, clock)
    for n in range(4):
        paced.admit(LONG_CODE, cost=1, priority=Priority.REPLY, key=f"k{n}")
    assert clock.slept == timedelta(seconds=1)  # the fourth slept a second

    with pytest.raises(SendPaced) as raised:
        paced.admit(LONG_CODE, cost=1, priority=Priority.REPLY, key="k4")

    assert isinstance(raised.value, Waiting)
    assert raised.value.retry_at == START + timedelta(seconds=2)
    assert "+1********06 is at its send rate (1 segments/s)" in str(raised.value)


def test_two_senders_racing_for_the_last_segment_one_gets_it() -> None:
    store, clock = MemoryPaceStore(), Clock()
    store.buckets[LONG_CODE] = Bucket(tat=T0 + 3000, version=7)  # one segment within a second
    first, second = pacer(store, clock), pacer(store, clock)
    outcomes: list[str] = []

    def the_other_one() -> None:
        second.admit(LONG_CODE, cost=1, priority=Priority.REPLY, key="b")
        outcomes.append("b sent")

    store.before_write = the_other_one  # b reads, decides and writes between a's read and write
    with pytest.raises(SendPaced) as raised:
        first.admit(LONG_CODE, cost=1, priority=Priority.REPLY, key="a")

    assert outcomes == ["b sent"]
    assert raised.value.retry_at == START + timedelta(seconds=2)  # a re-read what b wrote
    assert store.buckets[LONG_CODE] == Bucket(tat=T0 + 4000, version=8)
    assert store.writes == 1  # b's only: a lost the race and wrote nothing


def test_a_bucket_that_stays_busy_is_unavailable() -> None:
    store, clock = MemoryPaceStore(), Clock()

    class Busy(MemoryPaceStore):
        def write(self, sender: Sender, bucket: Bucket, *, seen: int, expires_at: int) -> bool:
            store.writes += 1
            return False

    with pytest.raises(PacingUnavailable, match=f"{WRITE_ATTEMPTS} attempts"):
        pacer(Busy(), clock).admit(LONG_CODE, cost=1, priority=Priority.REPLY, key="k")
    assert store.writes == WRITE_ATTEMPTS


# --- a 429 slows the sender -------------------------------------------------------------------


def test_a_429_halves_the_rate_once_per_burst_and_it_recovers_over_minutes() -> None:
    bucket = slowed(Bucket(), T0)
    assert bucket is not None
    assert bucket.factor == 0.5
    assert slowed(bucket, T0 + 1000) is None  # the same burst, met by another Lambda
    again = slowed(bucket, T0 + 3000)
    assert again is not None
    assert again.factor == pytest.approx(0.25, abs=0.01)
    assert factor_at(again, T0 + 3000 + 60_000) == pytest.approx(0.35, abs=0.01)
    assert factor_at(again, T0 + 3000 + 10 * 60_000) == 1.0
    floor = Bucket(factor=MIN_FACTOR, slowed=T0)
    assert slowed(floor, T0 + 5000) == Bucket(factor=MIN_FACTOR, slowed=T0 + 5000)


def test_a_slowed_sender_sends_at_its_lower_rate() -> None:
    store, clock = MemoryPaceStore(), Clock()
    paced = pacer(store, clock, {"long_code": 4.0})
    assert paced.slow_down(LONG_CODE)
    assert not paced.slow_down(LONG_CODE)  # once per burst

    paced.admit(LONG_CODE, cost=1, priority=Priority.REPLY, key="k0")

    assert store.buckets[LONG_CODE].tat == T0 + 500  # 2 a second: half of 4
    refusals = []
    for n in range(1, 20):
        try:
            paced.admit(LONG_CODE, cost=1, priority=Priority.REPLY, key=f"k{n}")
        except SendPaced as paced_send:
            refusals.append(str(paced_send))
    assert refusals
    assert "slowed to 50% after a 429" in refusals[0]
