"""The message processor over in-memory ports: the run store pins the trigger version and time
zone on the first attempt, the ledger answers every step already performed, a finished run is
never evaluated again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import EnginePort, LedgerActionPort, NotPerformed, lease_for
from sms_automation.processing.runner import MessageProcessor, MissingTriggerVersion
from sms_automation.triggers import ActionPort, SendSms
from sms_automation.triggers.versions import engines
from tests.support.fakes import InMemoryEvaluationStore, InMemoryStepLedger, RecordingEffects

SID = "SM" + "1" * 32
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

REPLY = """
version: 1
triggers:
  - name: auto-reply
    actions:
      - type: send_sms
        body: "{body}"
"""

OPT_OUT_ANSWER = """
version: 1
triggers:
  - name: goodbye
    on_opt_out: true
    when: {field: Body, equals: "STOP"}
    actions:
      - type: send_sms
        body: "You are unsubscribed"
"""

TIME_OF_DAY = """
version: 1
triggers:
  - name: said-when
    actions:
      - type: send_sms
        body: "it is %time%"
"""


@dataclass(frozen=True)
class Stored:
    version: int
    fingerprint: str
    source: str


class VersionedTriggers:
    """``runner.TriggerSource``: pushed versions of each account's file, the newest current."""

    def __init__(self) -> None:
        self.versions: dict[str, list[Stored]] = {}

    def push(self, account: str, source: str) -> Stored:
        pushed = self.versions.setdefault(account, [])
        stored = Stored(len(pushed) + 1, f"fp{len(pushed) + 1}", source)
        pushed.append(stored)
        return stored

    def current(self, account: str) -> Stored | None:
        pushed = self.versions.get(account)
        return pushed[-1] if pushed else None

    def version(self, account: str, version: int) -> Stored | None:
        return next((s for s in self.versions.get(account, []) if s.version == version), None)

    def drop(self, account: str, version: int) -> None:
        self.versions[account] = [s for s in self.versions[account] if s.version != version]


class World:
    def __init__(self) -> None:
        self.evaluations = InMemoryEvaluationStore()
        self.ledger = InMemoryStepLedger()
        self.effects = RecordingEffects()
        self.triggers = VersionedTriggers()
        self.zones: dict[str, str | None] = {"acme": None}
        self.clock = NOW
        self.processor = MessageProcessor(
            evaluations=self.evaluations,
            triggers=self.triggers,
            engines=engines(),
            port_for=self.port_for,
            clock=lambda: self.clock,
            account_zone=self.zones.get,
        )

    def port_for(self, message: Mapping[str, Any]) -> ActionPort:
        ledger_port = LedgerActionPort(
            str(message["message_sid"]),
            self.ledger,
            self.effects,
            lambda: self.clock,
            lease=lease_for(60),
        )
        return EnginePort(ledger_port, conversations=None)


def message(body: str = "hello", sid: str = SID) -> dict[str, Any]:
    return {
        "message_sid": sid,
        "account": "acme",
        "received_at": "2026-03-02T09:30:00Z",
        "from_number": "+15005550006",
        "to_number": "+15005550001",
        "params": {"Body": body, "From": "+15005550006", "To": "+15005550001"},
    }


@pytest.fixture
def world() -> World:
    return World()


def sent_bodies(world: World) -> list[str]:
    return [step.body for step in world.effects.performed if isinstance(step, SendSms)]


def test_processor_without_triggers_records_no_triggers_and_performs_nothing(world: World) -> None:
    result = world.processor.process(message())
    assert (result.evaluation.status, result.evaluation.finished, result.replayed) == (
        "no_triggers",
        True,
        False,
    )
    assert world.effects.performed == []


def test_processor_performs_the_matched_steps_once_and_records_the_run(world: World) -> None:
    world.triggers.push("acme", REPLY.format(body="Thanks"))
    first = world.processor.process(message())
    again = world.processor.process(message())  # a stream redelivery
    assert first.evaluation.status == "completed"
    assert first.evaluation.matched == ("auto-reply",)
    assert (first.evaluation.trigger_version, first.steps_performed) == (1, 1)
    assert again.replayed
    assert again.evaluation == world.evaluations.get(SID)
    assert sent_bodies(world) == ["Thanks"]
    assert world.ledger.get(SID, "auto-reply/1").state is StepState.DONE  # type: ignore[union-attr]


def test_processor_replays_the_pinned_version_after_a_newer_push(world: World) -> None:
    world.triggers.push("acme", REPLY.format(body="first version"))
    world.effects.refuse_next(NotPerformed("Twilio rate limited us"))
    with pytest.raises(NotPerformed):
        world.processor.process(message())
    world.triggers.push("acme", REPLY.format(body="second version"))

    result = world.processor.process(message())
    assert (result.evaluation.trigger_version, result.evaluation.attempts, result.replayed) == (
        1,
        2,
        True,
    )
    assert sent_bodies(world) == ["first version"]


def test_processor_refuses_a_run_whose_pinned_version_is_gone(world: World) -> None:
    world.triggers.push("acme", REPLY.format(body="v1"))
    world.effects.refuse_next(NotPerformed("not now"))
    with pytest.raises(NotPerformed):
        world.processor.process(message())
    world.triggers.push("acme", REPLY.format(body="v2"))
    world.triggers.drop("acme", 1)
    with pytest.raises(MissingTriggerVersion, match="trigger version 1"):
        world.processor.process(message())


def test_processor_finishes_an_opt_out_no_trigger_asks_for_as_opted_out(world: World) -> None:
    world.triggers.push("acme", REPLY.format(body="Thanks"))
    result = world.processor.process(message("STOP"), opt_out=True)
    assert result.evaluation.status == "opted_out"
    assert result.evaluation.finished
    assert world.effects.performed == []


def test_processor_runs_only_the_opt_out_triggers_for_an_opt_out(world: World) -> None:
    world.triggers.push("acme", OPT_OUT_ANSWER)
    result = world.processor.process(message("STOP"), opt_out=True)
    assert result.evaluation.matched == ("goodbye",)
    assert sent_bodies(world) == ["You are unsubscribed"]


def test_processor_keeps_the_first_attempts_time_zone(world: World) -> None:
    world.triggers.push("acme", TIME_OF_DAY)
    world.zones["acme"] = "Europe/Paris"
    world.effects.refuse_next(NotPerformed("not now"))
    with pytest.raises(NotPerformed):
        world.processor.process(message())
    world.zones["acme"] = "America/New_York"  # changed between the attempts
    world.clock = NOW + timedelta(minutes=5)

    result = world.processor.process(message())
    assert result.evaluation.timezone == "Europe/Paris"
    assert sent_bodies(world) == ["it is 10:30:00"]  # received 09:30 UTC, in Paris


def test_processor_counts_each_attempt_on_the_run(world: World) -> None:
    world.triggers.push("acme", REPLY.format(body="Thanks"))
    world.effects.refuse_next(NotPerformed("not now"))
    with pytest.raises(NotPerformed):
        world.processor.process(message())
    assert world.evaluations.get(SID).status == "running"  # type: ignore[union-attr]
    assert world.ledger.get(SID, "auto-reply/1") is None  # released: nothing was sent

    world.processor.process(message())
    assert world.evaluations.get(SID).attempts == 2  # type: ignore[union-attr]


# --- a message that performs nothing: its evaluation written once, finished -----------------------
#
# Two attempts of the same record at the same moment (a stream retry overlapping the first, a
# redrive, a replay): each reads the evaluation (none yet) and the trigger pointer, then writes.
# A push between their pointer reads gives them different versions. Whichever writes first pins
# the evaluation (a running one, or a finished one when its version performs nothing); the other
# meets that record when it writes, and goes on from it: one version, each step at most once.

NOTHING_FOR_HELLO = """
version: 1
triggers:
  - name: call-me
    when: {field: Body, equals: "call me"}
    actions:
      - type: send_sms
        body: "We will call you"
"""


class CountingEvaluations(InMemoryEvaluationStore):
    """Every write, by method."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def start(self, *args: Any, **kwargs: Any) -> Any:
        self.writes.append("start")
        return super().start(*args, **kwargs)

    def finish(self, *args: Any, **kwargs: Any) -> Any:
        self.writes.append("finish")
        return super().finish(*args, **kwargs)

    def finish_once(self, *args: Any, **kwargs: Any) -> Any:
        self.writes.append("finish_once")
        return super().finish_once(*args, **kwargs)


class ReadBefore:
    """What an attempt read before the other attempt wrote: no evaluation yet, and the trigger
    pointer as it was then (the versions themselves are immutable and read as they are)."""

    def __init__(self, world: World, pointer: Stored | None) -> None:
        self._world = world
        self._pointer = pointer
        self._first_get = True

    def current(self, account: str) -> Stored | None:
        return self._pointer

    def version(self, account: str, version: int) -> Stored | None:
        return self._world.triggers.version(account, version)

    def get(self, message_sid: str) -> Any:
        if self._first_get:
            self._first_get = False
            return None
        return self._world.evaluations.get(message_sid)

    def __getattr__(self, name: str) -> Any:  # the writes go to the shared store
        return getattr(self._world.evaluations, name)


def attempt_that_read_before(world: World, pointer: Stored | None) -> MessageProcessor:
    seen = ReadBefore(world, pointer)
    return MessageProcessor(
        evaluations=seen,
        triggers=seen,
        engines=engines(),
        port_for=world.port_for,
        clock=lambda: world.clock,
        account_zone=world.zones.get,
    )


def test_a_message_that_performs_nothing_is_written_once_finished() -> None:
    world = World()
    world.evaluations = CountingEvaluations()
    world.processor = MessageProcessor(
        evaluations=world.evaluations,
        triggers=world.triggers,
        engines=engines(),
        port_for=world.port_for,
        clock=lambda: world.clock,
        account_zone=world.zones.get,
    )
    world.zones["acme"] = "Europe/Paris"
    world.triggers.push("acme", NOTHING_FOR_HELLO)

    result = world.processor.process(message("hello"))

    assert world.evaluations.writes == ["finish_once"]
    evaluation = result.evaluation
    assert (evaluation.status, evaluation.trigger_version, evaluation.matched) == (
        "completed",
        1,
        (),
    )
    assert (evaluation.started_at, evaluation.finished_at) == ("2026-03-02T09:30:00.000Z",) * 2
    assert (evaluation.timezone, evaluation.fingerprint, evaluation.attempts) == (
        "Europe/Paris",
        "fp1",
        1,
    )
    assert not result.replayed
    assert world.effects.performed == []
    again = world.processor.process(message("hello"))  # a redelivery reads it, writes nothing
    assert (again.replayed, world.evaluations.writes) == (True, ["finish_once"])


def test_a_message_that_acts_is_still_pinned_before_its_steps(world: World) -> None:
    counting = CountingEvaluations()
    world.evaluations = counting
    world.triggers.push("acme", NOTHING_FOR_HELLO)
    processor = MessageProcessor(
        evaluations=counting,
        triggers=world.triggers,
        engines=engines(),
        port_for=world.port_for,
        clock=lambda: world.clock,
        account_zone=world.zones.get,
    )
    processor.process(message("call me"))
    assert counting.writes == ["start", "finish"]
    assert sent_bodies(world) == ["We will call you"]


def test_overlap_the_attempt_that_acts_pins_first_and_the_inert_one_goes_on_from_it(
    world: World,
) -> None:
    world.triggers.push("acme", NOTHING_FOR_HELLO)
    before_the_push = world.triggers.current("acme")
    world.triggers.push("acme", REPLY.format(body="Thanks"))
    inert = attempt_that_read_before(world, before_the_push)

    acting = world.processor.process(message("hello"))  # version 2: pins it, sends
    result = inert.process(message("hello"))  # version 1 would do nothing: meets version 2

    assert acting.evaluation.trigger_version == 2
    assert (result.evaluation.trigger_version, result.evaluation.status) == (2, "completed")
    assert result.evaluation.matched == ("auto-reply",)
    assert result.replayed
    assert sent_bodies(world) == ["Thanks"]


def test_overlap_the_inert_attempt_writes_first_and_the_other_performs_nothing(
    world: World,
) -> None:
    world.triggers.push("acme", NOTHING_FOR_HELLO)
    before_the_push = world.triggers.current("acme")
    world.triggers.push("acme", REPLY.format(body="Thanks"))
    inert = attempt_that_read_before(world, before_the_push)
    acting = attempt_that_read_before(world, world.triggers.current("acme"))

    first = inert.process(message("hello"))  # version 1: finished, nothing to do
    second = acting.process(message("hello"))  # version 2 would send: meets version 1

    assert (first.evaluation.trigger_version, first.evaluation.status) == (1, "completed")
    assert (second.evaluation.trigger_version, second.evaluation.status) == (1, "completed")
    assert second.evaluation.matched == ()
    assert second.replayed
    assert sent_bodies(world) == []
    assert world.evaluations.get(SID) == second.evaluation


def test_overlap_the_inert_attempt_finishes_the_version_another_pinned_and_left_running(
    world: World,
) -> None:
    world.triggers.push("acme", NOTHING_FOR_HELLO)
    before_the_push = world.triggers.current("acme")
    world.triggers.push("acme", REPLY.format(body="Thanks"))
    world.effects.refuse_next(NotPerformed("Twilio rate limited us"))
    with pytest.raises(NotPerformed):  # version 2 pinned, its step not performed
        world.processor.process(message("hello"))

    result = attempt_that_read_before(world, before_the_push).process(message("hello"))
    retry = world.processor.process(message("hello"))  # the first attempt's retry

    assert (result.evaluation.trigger_version, result.evaluation.status) == (2, "completed")
    assert result.evaluation.attempts == 2
    assert retry.replayed
    assert sent_bodies(world) == ["Thanks"]


def test_an_attempt_that_meets_an_evaluation_finished_by_another_returns_it(
    world: World,
) -> None:
    """The intake of an overlapping attempt took the message as a conversation's answer and
    wrote its evaluation (finished, version 0) after this attempt read none: nothing is
    evaluated again, and version 0 is not looked for."""
    world.triggers.push("acme", REPLY.format(body="Thanks"))
    attempt = attempt_that_read_before(world, world.triggers.current("acme"))
    world.evaluations.start(
        SID, "acme", trigger_version=0, fingerprint="", now="t", status="conversation_reply"
    )

    result = attempt.process(message("hello"))

    assert (result.evaluation.status, result.replayed) == ("conversation_reply", True)
    assert sent_bodies(world) == []


def test_went_on_evaluates_the_record_another_attempt_pinned_without_counting_again(
    world: World,
) -> None:
    """The intake's loop guard wrote its ``own_number`` record after another attempt pinned
    the message (``finish_once`` counted this attempt on it): the run goes on, counted once."""
    world.triggers.push("acme", REPLY.format(body="Thanks"))
    world.effects.refuse_next(NotPerformed("Twilio rate limited us"))
    with pytest.raises(NotPerformed):  # version 1 pinned, its step not performed
        world.processor.process(message("hello"))
    met = world.evaluations.finish_once(
        SID,
        "acme",
        trigger_version=0,
        fingerprint="",
        timezone="",
        now="t",
        status="own_number",
        matched=(),
        diagnostics=[],
    )

    result = world.processor.went_on(message("hello"), met)

    assert (met.status, met.attempts) == ("running", 2)
    assert (result.evaluation.status, result.evaluation.attempts, result.replayed) == (
        "completed",
        2,
        True,
    )
    assert sent_bodies(world) == ["Thanks"]
