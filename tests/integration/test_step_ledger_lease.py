"""The step ledger's contract, held by the adapter on moto and by the unit tests' in-memory fake
alike: a claim is taken over once, by one taker; what a released, abandoned or unknown claim
leaves for the next attempt; and the port's rules over it with effects whose answers the test
scripts (the real effects: test_exactly_once_recovery)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation.adapters.step_ledger import DynamoStepLedger
from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import (
    GIVE_UP,
    EffectResult,
    LedgerActionPort,
    MaybePerformed,
    NotPerformed,
    OutcomeStillUnknown,
    lease_for,
)
from sms_automation.processing.ports import ClaimLost, StepLedger
from sms_automation.triggers import OutcomeStatus, SendSms, Step
from tests.support.aws import use_dummy_aws_credentials
from tests.support.fakes import InMemoryStepLedger
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

SID, STEP = "SM" + "1" * 32, "auto-reply/1"
T0, T1, T2 = "2026-12-06T12:00:00.000Z", "2026-12-06T12:03:01.000Z", "2026-12-06T12:03:02.000Z"
LEASE = "2026-12-06T12:03:00.000Z"


@pytest.fixture(params=["dynamodb", "in_memory"])
def ledger(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[StepLedger]:
    """Each rule holds for the adapter (on moto) and for the unit tests' fake alike."""
    if request.param == "in_memory":
        yield InMemoryStepLedger()
        return
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        table = create_table_kwargs()
        client = boto3.client("dynamodb")
        client.create_table(**table)
        yield DynamoStepLedger(table["TableName"], client)


def test_a_claim_no_longer_held_cannot_be_marked_unknown(ledger: StepLedger) -> None:
    ledger.claim(SID, STEP, "send_sms", T0, LEASE)
    entry = ledger.get(SID, STEP)
    assert entry is not None
    assert ledger.take_over(SID, entry, T1, "2026-12-06T12:06:01.000Z")
    with pytest.raises(ClaimLost):
        ledger.record_unknown(SID, STEP, held=T0, since=T0, now=T2, detail="HTTP 500")
    ledger.finish(SID, STEP, StepState.DONE, now=T2, detail="sent", variables={"sid": "SM1"})
    with pytest.raises(ClaimLost):
        ledger.record_unknown(SID, STEP, held=T1, since=T1, now=T2, detail="HTTP 500")


def test_a_finished_step_keeps_its_outcome_and_no_claim_changes_it(ledger: StepLedger) -> None:
    ledger.claim(SID, STEP, "send_sms", T0, LEASE)
    at = datetime(2026, 12, 6, 12, tzinfo=UTC)
    ledger.finish(
        SID,
        STEP,
        StepState.DONE,
        now=T1,
        detail="sent",
        variables={"sid": "SM1", "at": at},
        resource_sid="SM1",
    )
    entry = ledger.get(SID, STEP)
    assert entry is not None
    assert ledger.claim(SID, STEP, "send_sms", T2, LEASE) == entry
    assert not ledger.take_over(SID, entry, T2, LEASE)
    ledger.release(SID, STEP, held=T0)
    ledger.abandon(SID, STEP, held=T0, now=T2)
    assert ledger.get(SID, STEP) == entry
    assert (entry.state, entry.finished_at, entry.detail, entry.resource_sid) == (
        StepState.DONE,
        T1,
        "sent",
        "SM1",
    )
    assert entry.variables == {"sid": "SM1", "at": "2026-12-06 12:00:00+00:00"}  # JSON, as stored


def test_a_claim_carries_its_lease_and_first_claim_time(ledger: StepLedger) -> None:
    assert ledger.claim(SID, STEP, "send_sms", T0, LEASE) is None
    entry = ledger.claim(SID, STEP, "send_sms", T1, "later")
    assert entry is not None
    assert (entry.state, entry.started_at, entry.lease_until, entry.claimed_at) == (
        StepState.STARTED,
        T0,
        LEASE,
        T0,
    )


def test_of_two_takers_of_one_expired_claim_exactly_one_wins(ledger: StepLedger) -> None:
    ledger.claim(SID, STEP, "send_sms", T0, LEASE)
    seen_by_both = ledger.get(SID, STEP)
    assert seen_by_both is not None

    first = ledger.take_over(SID, seen_by_both, T1, "2026-12-06T12:06:01.000Z")
    second = ledger.take_over(SID, seen_by_both, T2, "2026-12-06T12:06:02.000Z")

    assert (first, second) == (True, False)
    entry = ledger.get(SID, STEP)
    assert entry is not None
    assert (entry.started_at, entry.attempts, entry.claimed_at) == (T1, 2, T0)


def test_an_unknown_outcome_keeps_the_claim_and_gives_the_lease_up(
    ledger: StepLedger,
) -> None:
    ledger.claim(SID, STEP, "send_sms", T0, LEASE)
    ledger.record_unknown(SID, STEP, held=T0, since=T0, now=T0, detail="HTTP 500")
    ledger.record_unknown(SID, STEP, held=T0, since=T0, now=T1, detail="not listed yet")

    entry = ledger.get(SID, STEP)
    assert entry is not None
    assert (entry.state, entry.unknown_since, entry.looks, entry.lease_until) == (
        StepState.STARTED,
        T0,
        2,
        T1,
    )


def test_release_and_abandon_touch_only_the_claim_they_hold(ledger: StepLedger) -> None:
    ledger.claim(SID, STEP, "send_sms", T0, LEASE)
    entry = ledger.get(SID, STEP)
    assert entry is not None
    assert ledger.take_over(SID, entry, T1, "2026-12-06T12:06:01.000Z")

    ledger.abandon(SID, STEP, held=T0, now=T2)  # the old holder: no longer its claim
    ledger.release(SID, STEP, held=T0)
    kept = ledger.get(SID, STEP)
    assert kept is not None
    assert kept.lease_until == "2026-12-06T12:06:01.000Z"

    ledger.abandon(SID, STEP, held=T1, now=T2)
    abandoned = ledger.get(SID, STEP)
    assert abandoned is not None
    assert abandoned.lease_until == T2
    ledger.release(SID, STEP, held=T1)
    assert ledger.get(SID, STEP) is None


class ScriptedEffects:
    """Effects whose answers the test scripts: the port's policy over the real ledger."""

    def __init__(self, *answers: Exception | EffectResult | None) -> None:
        self.answers = list(answers)
        self.performed = 0

    def _next(self) -> EffectResult | None:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def perform(self, step: Step, idempotency_key: str) -> EffectResult:
        self.performed += 1
        result = self._next()
        assert result is not None
        return result

    def find_performed(self, step: Step, since: str) -> EffectResult | None:
        return self._next()


def _port(ledger: StepLedger, effects: ScriptedEffects, now: list[datetime]) -> Any:
    return LedgerActionPort(SID, ledger, effects, lambda: now[0], lease=lease_for(120))


SMS = SendSms(
    step_id=STEP,
    trigger="auto-reply",
    to="+14155550101",
    from_="+15005550006",
    messaging_service_sid=None,
    body="hi",
)


def test_an_outcome_unknown_for_too_long_is_failed_not_resent(ledger: StepLedger) -> None:
    now = [datetime(2026, 12, 6, 12, tzinfo=UTC)]
    maybe = MaybePerformed("a message like it, not identified")
    effects = ScriptedEffects(maybe, maybe, maybe)
    with pytest.raises(OutcomeStillUnknown):
        _port(ledger, effects, now).perform(SMS)
    now[0] += timedelta(minutes=30)
    with pytest.raises(OutcomeStillUnknown):
        _port(ledger, effects, now).perform(SMS)

    now[0] += GIVE_UP
    outcome = _port(ledger, effects, now).perform(SMS)

    assert outcome.status is OutcomeStatus.FAILED
    assert "outcome unknown: not resent (3 looks" in outcome.detail
    assert effects.performed == 1
    entry = ledger.get(SID, STEP)
    assert entry is not None
    assert entry.state is StepState.FAILED


def test_a_step_certainly_not_performed_is_released(ledger: StepLedger) -> None:
    now = [datetime(2026, 12, 6, 12, tzinfo=UTC)]
    with pytest.raises(NotPerformed):
        _port(ledger, ScriptedEffects(NotPerformed("rate limited")), now).perform(SMS)
    assert ledger.get(SID, STEP) is None

    done = EffectResult(StepState.DONE, "message SM1 queued", {"sid": "SM1"}, "SM1")
    outcome = _port(ledger, ScriptedEffects(done), now).perform(SMS)
    assert outcome.status is OutcomeStatus.DONE


def test_an_attempt_failing_while_holding_a_claim_ends_its_lease(
    ledger: StepLedger,
) -> None:
    now = [datetime(2026, 12, 6, 12, tzinfo=UTC)]
    with pytest.raises(RuntimeError):
        _port(ledger, ScriptedEffects(RuntimeError("the ledger write failed")), now).perform(SMS)
    entry = ledger.get(SID, STEP)
    assert entry is not None
    assert entry.lease_until == entry.started_at  # the next attempt need not wait

    found = EffectResult(StepState.DONE, "message SM1 queued", {"sid": "SM1"}, "SM1")
    effects = ScriptedEffects(found)
    assert _port(ledger, effects, now).perform(SMS).status is OutcomeStatus.DONE
    assert effects.performed == 0  # found, not resent
