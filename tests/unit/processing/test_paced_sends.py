"""The send path with pacing and quiet hours: the real effects and ledger port over the in-memory
ledger and bucket, a recording Twilio. A send that must wait is released (never lost), comes
back and goes once (never doubled), also when two attempts of it meet with the pacing between
them; Twilio's "slow down" slows the sender; priorities reach the bucket; quiet hours hold the
automatic sends and only those."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sms_automation.outbound import FinalFailure, RetryableFailure, SentMessage
from sms_automation.processing.effects import Effects, EffectSettings
from sms_automation.processing.pacing import Bucket, Pacer, Priority, Sender, SendPaced
from sms_automation.processing.port import ClaimHeld, LedgerActionPort, Waiting, lease_for
from sms_automation.processing.quiet_hours import QuietHours
from sms_automation.triggers import MakeCall, OutcomeStatus, SendSms
from tests.support.fakes import InMemoryRecordTables, InMemoryStepLedger, MemoryPaceStore

SID = "SM" + "1" * 32
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
OUR = "+15005550006"
SENDER = Sender("acme", OUR)
SMS = SendSms(
    step_id="auto-reply/1",
    trigger="auto-reply",
    to="+14155550101",
    from_=OUR,
    messaging_service_sid=None,
    body="hi",
)
CALL = MakeCall(step_id="call/1", trigger="call", to="+14155550101", from_=OUR, twiml="<Response/>")


class Twilio:
    """``effects.Messaging``: answers each create with ``answers`` (then success), records it."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.creates: list[dict[str, Any]] = []

    def send_sms(self, **request: Any) -> Any:
        self.creates.append(request)
        if self.answers:
            return self.answers.pop(0)
        return SentMessage(f"SM{len(self.creates):032d}", "queued")

    def make_call(self, **request: Any) -> Any:
        raise AssertionError("no call expected")

    def find_messages(self, **_: Any) -> list[SentMessage]:
        return []

    def find_calls(self, **_: Any) -> list[Any]:
        return []


class World:
    def __init__(self, twilio: Twilio | None = None, opens: datetime | None = None) -> None:
        self.now = T0
        self.twilio = twilio or Twilio()
        self.ledger = InMemoryStepLedger()
        self.store = MemoryPaceStore()
        self.slept: list[float] = []
        self.opens = opens
        self.pacer = Pacer(self.store, lambda account: {}, lambda: self.now, self.slept.append)

    def port(self, *, priority: Priority = Priority.REPLY) -> LedgerActionPort:
        effects = Effects(
            message_sid=SID,
            messaging=lambda: self.twilio,
            records=InMemoryRecordTables(),
            settings=EffectSettings(status_callback_url=None, records_table="records"),
            record_outbound=lambda **_: True,
            owners=lambda sid: None,
            clock=lambda: self.now,
            account="acme",
            pacer=self.pacer,
            quiet_hours=lambda now: self.opens if self.opens and now < self.opens else None,
            priority=priority,
        )
        return LedgerActionPort(SID, self.ledger, effects, lambda: self.now, lease=lease_for(60))

    def sender_busy_until(self, at: datetime) -> None:
        """The sender's bucket used up until ``at`` (replies' overdraft included)."""
        self.store.buckets[SENDER] = Bucket(tat=int(at.timestamp() * 1000) + 2000, version=1)


def test_a_send_the_sender_has_no_capacity_for_is_released_deferred_then_sent_once() -> None:
    world = World()
    world.sender_busy_until(T0 + timedelta(seconds=5))

    with pytest.raises(SendPaced) as paced:
        world.port().perform(SMS)

    assert isinstance(paced.value, Waiting)
    assert paced.value.retry_at == T0 + timedelta(seconds=5)
    assert world.twilio.creates == []
    assert world.ledger.steps == {}  # released: the attempt that comes back claims it afresh

    world.now = T0 + timedelta(seconds=5)
    outcome = world.port().perform(SMS)
    again = world.port().perform(SMS)  # a redelivery of the same record

    assert outcome.status is OutcomeStatus.DONE
    assert again == outcome
    assert len(world.twilio.creates) == 1


def test_two_attempts_at_the_same_moment_with_pacing_between_send_once() -> None:
    world = World()
    second: list[BaseException] = []
    original = world.store.before_write

    def the_other_attempt() -> None:
        # the first attempt holds the claim and is taking its segment: the second meets the claim
        try:
            world.port().perform(SMS)
        except ClaimHeld as held:
            second.append(held)

    world.store.before_write = the_other_attempt
    outcome = world.port().perform(SMS)
    world.store.before_write = original

    assert outcome.status is OutcomeStatus.DONE
    assert len(second) == 1  # deferred until the first attempt's lease ends, nothing sent
    assert len(world.twilio.creates) == 1
    assert world.port().perform(SMS) == outcome  # it comes back: the recorded outcome


def test_two_attempts_one_paced_the_other_later_send_once() -> None:
    world = World()
    world.sender_busy_until(T0 + timedelta(seconds=2))
    with pytest.raises(SendPaced):
        world.port().perform(SMS)  # the first: paced, released
    world.now = T0 + timedelta(seconds=2)
    first = world.port().perform(SMS)  # the stream's retry of the same record, on time
    second = world.port().perform(SMS)  # the deferral of the first attempt, delivered too

    assert first.status is OutcomeStatus.DONE
    assert second == first
    assert len(world.twilio.creates) == 1


def test_a_long_message_takes_its_segments_from_the_bucket() -> None:
    world = World()
    world.port().perform(SendSms(**{**_fields(SMS), "body": "x" * 400}))  # 3 segments

    assert world.store.buckets[SENDER].tat == T0_MS + 3000


@pytest.mark.parametrize(
    ("message_priority", "step_priority", "expected"),
    [
        (Priority.REPLY, "reply", Priority.REPLY),
        (Priority.BULK, "reply", Priority.BULK),  # a broadcast row's run
        (Priority.REPLY, "bulk", Priority.BULK),  # a bulk step
    ],
)
def test_the_sends_priority_reaches_the_bucket(
    message_priority: Priority, step_priority: str, expected: Priority
) -> None:
    world = World()
    seen: list[Priority] = []
    admit = world.pacer.admit

    def recording(sender: Sender, *, cost: int, priority: Priority, key: str) -> int:
        seen.append(priority)
        return admit(sender, cost=cost, priority=priority, key=key)

    world.pacer.admit = recording  # type: ignore[method-assign]
    step = SendSms(**{**_fields(SMS), "priority": step_priority})
    world.port(priority=message_priority).perform(step)

    assert seen == [expected]


def test_a_bulk_send_waits_for_capacity_a_reply_takes_at_once() -> None:
    world = World()
    # as far ahead as bulk books: a second beyond a full bucket (processing.pacing)
    world.store.buckets[SENDER] = Bucket(tat=T0_MS + 2000, version=1)

    with pytest.raises(SendPaced):
        world.port(priority=Priority.BULK).perform(SMS)
    reply = SendSms(**{**_fields(SMS), "step_id": "reply/1"})
    assert world.port().perform(reply).status is OutcomeStatus.DONE
    assert world.slept == []  # at once
    assert len(world.twilio.creates) == 1


@pytest.mark.parametrize(
    "answer",
    [
        RetryableFailure("gave up: HTTP 429", 3, http_status=429, code=20429),
        RetryableFailure("gave up: HTTP 429", 3, 429, 20429, retry_after_seconds=30.0),
        FinalFailure(400, 21611, "This 'From' number has exceeded the queue", None),
        FinalFailure(429, 63017, "Rate limit exceeded", None),
    ],
)
def test_twilios_slow_down_slows_the_sender_and_the_send_goes_later_once(answer: Any) -> None:
    world = World(Twilio(answer))

    with pytest.raises(SendPaced, match="Twilio asked to send slower") as paced:
        world.port().perform(SMS)

    wait = timedelta(seconds=max(2, getattr(answer, "retry_after_seconds", None) or 0))
    assert paced.value.retry_at == T0 + wait
    assert world.store.buckets[SENDER].factor == 0.5
    assert world.ledger.steps == {}  # released: Twilio created nothing
    world.now = T0 + wait
    assert world.port().perform(SMS).status is OutcomeStatus.DONE
    assert len(world.twilio.creates) == 2  # the refused create, then the one that went


def test_another_final_failure_fails_the_step_and_does_not_slow_the_sender() -> None:
    world = World(Twilio(FinalFailure(400, 21211, "invalid To", None)))

    assert world.port().perform(SMS).status is OutcomeStatus.FAILED
    assert world.store.buckets[SENDER].factor == 1.0


def test_quiet_hours_hold_an_automatic_send_until_the_window_then_it_goes_once() -> None:
    opens = T0 + timedelta(hours=10)
    world = World(opens=opens)

    with pytest.raises(QuietHours) as held:
        world.port().perform(SMS)

    assert isinstance(held.value, Waiting)
    assert held.value.retry_at == opens
    assert world.ledger.steps == {}
    assert SENDER not in world.store.buckets  # no segment taken for a send not made
    world.now = opens
    assert world.port().perform(SMS).status is OutcomeStatus.DONE
    assert world.port().perform(SMS).status is OutcomeStatus.DONE
    assert len(world.twilio.creates) == 1


def test_quiet_hours_hold_a_call_too() -> None:
    world = World(opens=T0 + timedelta(hours=1))
    with pytest.raises(QuietHours):
        world.port().perform(CALL)


def test_a_send_its_caller_times_is_not_held_by_quiet_hours() -> None:
    world = World(opens=T0 + timedelta(hours=10))
    timed = SendSms(**{**_fields(SMS), "quiet_hours": False})  # a prompt, a console reply, HELP

    assert world.port().perform(timed).status is OutcomeStatus.DONE
    assert len(world.twilio.creates) == 1


def _fields(step: SendSms) -> dict[str, Any]:
    return {name: getattr(step, name) for name in step.__slots__}
