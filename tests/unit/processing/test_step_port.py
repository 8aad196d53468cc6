"""The step port over the in-memory ledger (``tests/support/fakes.py``, the same contract as the
DynamoDB ledger): each side-effecting step is performed once, whatever attempts meet it, one
after the other or at the same moment."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import (
    GIVE_UP,
    SETTLE,
    CannotTell,
    ClaimHeld,
    EffectResult,
    EnginePort,
    LedgerActionPort,
    MaybePerformed,
    NotPerformed,
    OutcomeStillUnknown,
    idempotency_key,
    lease_for,
    next_look,
)
from sms_automation.triggers import OutcomeStatus, SendSms, StepOutcome, WaitForReply
from tests.support.fakes import InMemoryStepLedger, RecordingEffects

SID = "SM" + "1" * 32
T0 = datetime(2026, 12, 6, 12, tzinfo=UTC)
LEASE = lease_for(60)
SMS = SendSms(
    step_id="auto-reply/1",
    trigger="auto-reply",
    to="+14155550101",
    from_="+15005550006",
    messaging_service_sid=None,
    body="hi",
)
WAIT = WaitForReply(
    step_id="ask/1",
    trigger="ask",
    to="+14155550101",
    from_="+15005550006",
    prompt="Yes?",
    timeout_seconds=60,
    until=None,
)


class Attempt:
    """One attempt's port (a stream delivery, a replay) on the shared ledger and effects."""

    def __init__(self, ledger: InMemoryStepLedger, effects: RecordingEffects, now: datetime):
        self.now = now
        self.port = LedgerActionPort(SID, ledger, effects, lambda: self.now, lease=LEASE)


@pytest.fixture
def ledger() -> InMemoryStepLedger:
    return InMemoryStepLedger()


@pytest.fixture
def effects() -> RecordingEffects:
    return RecordingEffects()


def test_step_port_performs_once_and_answers_a_redelivery_from_the_ledger(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    first = Attempt(ledger, effects, T0).port.perform(SMS)
    again = Attempt(ledger, effects, T0 + timedelta(seconds=5)).port.perform(SMS)

    assert first == again
    assert (first.status, first.variables) == (OutcomeStatus.DONE, {"sid": "SM" + "1".zfill(32)})
    assert effects.performed == [SMS]
    assert effects.keys == [idempotency_key(SID, SMS.step_id)]
    entry = ledger.get(SID, SMS.step_id)
    assert entry is not None
    assert (entry.state, entry.resource_sid, entry.attempts) == (
        StepState.DONE,
        "SM" + "1".zfill(32),
        1,
    )


def test_step_port_releases_a_step_certainly_not_performed(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    effects.refuse_next(NotPerformed("rate limited"))
    with pytest.raises(NotPerformed):
        Attempt(ledger, effects, T0).port.perform(SMS)
    assert ledger.get(SID, SMS.step_id) is None

    assert Attempt(ledger, effects, T0).port.perform(SMS).status is OutcomeStatus.DONE
    assert effects.performed == [SMS]


def test_step_port_leaves_a_claim_whose_lease_runs_to_its_holder(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    ledger.claim(
        SID, SMS.step_id, SMS.kind, utc_timestamp(T0), utc_timestamp(T0 + LEASE)
    )  # an attempt, running
    with pytest.raises(ClaimHeld) as held:
        Attempt(ledger, effects, T0 + timedelta(seconds=30)).port.perform(SMS)
    assert held.value.retry_at == T0 + LEASE
    assert effects.performed == []
    assert effects.looked_up == []


def test_step_port_takes_over_an_interrupted_step_and_credits_what_it_finds(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    ledger.claim(
        SID, SMS.step_id, SMS.kind, utc_timestamp(T0), utc_timestamp(T0 + LEASE)
    )  # then the attempt died
    effects.found = lambda step: EffectResult(StepState.DONE, "found", {"sid": "SM9"}, "SM9")
    later = Attempt(ledger, effects, T0 + LEASE + timedelta(seconds=1))

    outcome = later.port.perform(SMS)

    assert (outcome.status, outcome.variables) == (OutcomeStatus.DONE, {"sid": "SM9"})
    assert effects.performed == []  # found, never resent
    assert effects.looked_up == [(SMS.step_id, utc_timestamp(T0))]  # searched from the first claim
    assert later.port.interrupted_steps == [SMS.step_id]
    entry = ledger.get(SID, SMS.step_id)
    assert entry is not None
    assert (entry.state, entry.attempts) == (StepState.DONE, 2)


def test_step_port_fails_an_interrupted_step_it_cannot_tell_about(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    ledger.claim(SID, SMS.step_id, SMS.kind, utc_timestamp(T0), utc_timestamp(T0 + LEASE))

    def cannot_tell(step: object) -> EffectResult | None:
        raise CannotTell("a POST may have reached it")

    effects.found = cannot_tell
    later = Attempt(ledger, effects, T0 + LEASE + timedelta(seconds=1))
    outcome = later.port.perform(SMS)
    assert outcome.status is OutcomeStatus.FAILED
    assert "not repeated (a POST may have reached it)" in outcome.detail
    assert later.port.unknown_steps == [SMS.step_id]
    assert effects.performed == []


def test_step_port_keeps_an_unknown_outcome_and_looks_again_until_it_settles(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    effects.refuse_next(MaybePerformed("Twilio answered 500"))
    with pytest.raises(OutcomeStillUnknown) as unknown:
        Attempt(ledger, effects, T0).port.perform(SMS)
    assert unknown.value.retry_at == next_look(T0, T0)
    entry = ledger.get(SID, SMS.step_id)
    assert entry is not None
    assert (entry.state, entry.unknown_since, entry.looks, entry.lease_until) == (
        StepState.STARTED,
        utc_timestamp(T0),
        1,
        utc_timestamp(T0),  # the lease given up: the next attempt looks at once
    )

    with pytest.raises(OutcomeStillUnknown):  # not in Twilio's list yet, before SETTLE
        Attempt(ledger, effects, T0 + timedelta(minutes=1)).port.perform(SMS)
    assert ledger.get(SID, SMS.step_id).looks == 2  # type: ignore[union-attr]

    settled = Attempt(ledger, effects, T0 + SETTLE + timedelta(seconds=1)).port.perform(SMS)
    assert settled.status is OutcomeStatus.DONE  # nothing found once settled: performed again
    assert effects.performed == [SMS]


def test_step_port_fails_an_outcome_unknown_past_give_up_without_resending(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    effects.refuse_next(MaybePerformed("no answer"))
    with pytest.raises(OutcomeStillUnknown):
        Attempt(ledger, effects, T0).port.perform(SMS)

    def still_maybe(step: object) -> EffectResult | None:
        raise MaybePerformed("a message like it, not identified")

    effects.found = still_maybe
    outcome = Attempt(ledger, effects, T0 + GIVE_UP).port.perform(SMS)
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.detail.startswith("outcome unknown: not resent (2 looks since")
    assert effects.performed == []
    assert ledger.get(SID, SMS.step_id).state is StepState.FAILED  # type: ignore[union-attr]


def test_step_port_gives_the_lease_up_when_its_attempt_fails(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    effects.refuse_next(RuntimeError("the function is failing"))
    with pytest.raises(RuntimeError):
        Attempt(ledger, effects, T0).port.perform(SMS)
    entry = ledger.get(SID, SMS.step_id)
    assert entry is not None
    assert entry.lease_until == entry.started_at

    outcome = Attempt(ledger, effects, T0 + timedelta(seconds=1)).port.perform(SMS)
    assert outcome.status is OutcomeStatus.DONE  # taken over at once, not after the lease
    assert effects.looked_up == [(SMS.step_id, utc_timestamp(T0))]


def test_step_port_performs_once_when_two_attempts_meet_the_step_at_the_same_moment(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    both_started = threading.Barrier(2)
    loser_done = threading.Event()
    effects.during = lambda step: loser_done.wait(timeout=10)  # the winner holds its claim
    outcomes: dict[str, StepOutcome | BaseException] = {}

    def attempt(name: str) -> None:
        both_started.wait(timeout=10)
        try:
            outcomes[name] = Attempt(ledger, effects, T0).port.perform(SMS)
        except ClaimHeld as held:
            outcomes[name] = held
            loser_done.set()

    threads = [threading.Thread(target=attempt, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert effects.performed == [SMS]
    kinds = sorted(type(outcome).__name__ for outcome in outcomes.values())
    assert kinds == ["ClaimHeld", "StepOutcome"]


def test_step_port_never_claims_a_conversation(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    with pytest.raises(TypeError, match="a wait is not a ledger step"):
        Attempt(ledger, effects, T0).port.perform(WAIT)
    assert ledger.steps == {}


def test_engine_port_hands_conversations_to_the_conversations_and_steps_to_the_ledger(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    waited: list[WaitForReply] = []

    def start_conversation(step: WaitForReply, answered: bool) -> StepOutcome:
        waited.append(step)
        return StepOutcome.pending("waiting")

    port = EnginePort(Attempt(ledger, effects, T0).port, conversations=start_conversation)
    assert port.perform(WAIT).status is OutcomeStatus.PENDING
    assert port.perform(SMS).status is OutcomeStatus.DONE
    assert (waited, effects.performed, list(ledger.steps)) == ([WAIT], [SMS], [(SID, SMS.step_id)])


def test_engine_port_fails_a_conversation_where_conversations_are_not_deployed(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    outcome = EnginePort(Attempt(ledger, effects, T0).port, conversations=None).perform(WAIT)
    assert (outcome.status, outcome.detail) == (
        OutcomeStatus.FAILED,
        "conversations are not configured here",
    )


def test_engine_port_answers_a_contact_who_answered_through_the_answering_port(
    ledger: InMemoryStepLedger, effects: RecordingEffects
) -> None:
    """A broadcast's run is bulk; what it sends once the contact answered a wait (the next
    question, a thank-you) answers them: a reply, until a wait ends without their answer."""
    answers = RecordingEffects()
    outcomes = iter(["replied", "no_valid_answer", "timeout"])
    told: list[bool] = []

    def start_conversation(step: WaitForReply, answered: bool) -> StepOutcome:
        told.append(answered)
        return StepOutcome.done({"outcome": next(outcomes)}, "over")

    def answering() -> LedgerActionPort:
        return Attempt(ledger, answers, T0).port

    port = EnginePort(
        Attempt(ledger, effects, T0).port, conversations=start_conversation, answering=answering
    )
    sends = [replace(SMS, step_id=f"s/{n}") for n in range(4)]
    port.perform(sends[0])
    port.perform(WAIT)  # replied
    port.perform(sends[1])
    port.perform(WAIT)  # no valid answer: the contact wrote, the answer is theirs too
    port.perform(sends[2])
    port.perform(WAIT)  # timed out: what follows is the run's again
    port.perform(sends[3])

    assert told == [False, True, True]
    assert [s.step_id for s in effects.performed] == ["s/0", "s/3"]
    assert [s.step_id for s in answers.performed] == ["s/1", "s/2"]
