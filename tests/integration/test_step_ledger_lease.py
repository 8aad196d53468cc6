"""The step ledger's lease on moto: a claim is taken over once, by one taker; what a released,
abandoned or unknown claim leaves for the next attempt."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from sms_automation.processing.ledger import DynamoStepLedger, StepState
from tests.support.aws import use_dummy_aws_credentials
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

SID, STEP = "SM" + "1" * 32, "auto-reply/1"
T0, T1, T2 = "2026-12-06T12:00:00.000Z", "2026-12-06T12:03:01.000Z", "2026-12-06T12:03:02.000Z"
LEASE = "2026-12-06T12:03:00.000Z"


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoStepLedger]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        table = create_table_kwargs()
        client = boto3.client("dynamodb")
        client.create_table(**table)
        yield DynamoStepLedger(table["TableName"], client)


def test_a_claim_carries_its_lease_and_first_claim_time(ledger: DynamoStepLedger) -> None:
    assert ledger.claim(SID, STEP, "send_sms", T0, LEASE) is None
    entry = ledger.claim(SID, STEP, "send_sms", T1, "later")
    assert entry is not None
    assert (entry.state, entry.started_at, entry.lease_until, entry.claimed_at) == (
        StepState.STARTED,
        T0,
        LEASE,
        T0,
    )


def test_of_two_takers_of_one_expired_claim_exactly_one_wins(ledger: DynamoStepLedger) -> None:
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
    ledger: DynamoStepLedger,
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


def test_release_and_abandon_touch_only_the_claim_they_hold(ledger: DynamoStepLedger) -> None:
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
