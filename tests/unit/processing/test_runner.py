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
