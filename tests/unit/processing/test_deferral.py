"""A deferral's message, its delay and its bound (processing.deferral), and when an unknown
outcome is looked at again (processing.port.next_look)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sms_automation.processing.deferral import (
    MAX_DEFERRALS,
    MAX_DEFERRED_FOR,
    MAX_DELAY_SECONDS,
    UNKNOWN_DELAY_SECONDS,
    Deferral,
    MalformedDeferral,
    delay_seconds,
)
from sms_automation.processing.port import GIVE_UP, LOOK_AGAIN, SETTLE, next_look
from sms_automation.processing.retry_later import ClaimHeld, OutcomeStillUnknown, RetryLater

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DEFERRAL = Deferral(
    message_sid="SM11111111111111111111111111111111",
    account="acme",
    stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026",
    sequence_number="1100000000017454423012",
    deferrals=1,
    first_deferred_at=NOW.isoformat(),
)


def test_a_deferral_reads_back_what_it_wrote() -> None:
    assert Deferral.from_body(DEFERRAL.body()) == DEFERRAL


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[]",
        json.dumps({"message_sid": "SM1"}),
        json.dumps(json.loads(DEFERRAL.body()) | {"body": "Hello"}),  # a field it has not
        json.dumps(json.loads(DEFERRAL.body()) | {"deferrals": 0}),
        json.dumps(json.loads(DEFERRAL.body()) | {"deferrals": True}),
        json.dumps(json.loads(DEFERRAL.body()) | {"message_sid": ""}),
        json.dumps(json.loads(DEFERRAL.body()) | {"account": 7}),
        json.dumps(json.loads(DEFERRAL.body()) | {"first_deferred_at": "yesterday"}),
        json.dumps(json.loads(DEFERRAL.body()) | {"account": "x" * 3000}),
    ],
)
def test_what_is_not_a_deferral_is_refused(body: str) -> None:
    with pytest.raises(MalformedDeferral):
        Deferral.from_body(body)


def test_a_deferral_is_exhausted_by_its_count_or_its_age() -> None:
    assert not DEFERRAL.exhausted(NOW)
    assert DEFERRAL.exhausted(NOW + MAX_DEFERRED_FOR)
    assert not DEFERRAL.exhausted(NOW + MAX_DEFERRED_FOR - timedelta(seconds=1))
    often = Deferral(**(json.loads(DEFERRAL.body()) | {"deferrals": MAX_DEFERRALS}))
    assert often.exhausted(NOW)


@pytest.mark.parametrize(
    ("retry_at", "expected"),
    [
        (NOW + timedelta(seconds=179, milliseconds=200), 180),  # rounded up: never early
        (NOW + timedelta(hours=1), MAX_DELAY_SECONDS),  # SQS's longest
        (NOW - timedelta(seconds=5), 1),  # already due
        (None, UNKNOWN_DELAY_SECONDS),
    ],
)
def test_the_delay_is_until_retry_at_within_what_sqs_allows(
    retry_at: datetime | None, expected: int
) -> None:
    assert delay_seconds(RetryLater("later", retry_at=retry_at), NOW) == expected


def test_the_errors_carry_when_to_come_back() -> None:
    assert ClaimHeld("held", retry_at=NOW).retry_at == NOW
    assert OutcomeStillUnknown("unknown").retry_at is None


def test_an_unknown_outcome_is_looked_at_every_minute_until_settled_then_at_the_give_up() -> None:
    since = NOW
    assert next_look(NOW, since) == NOW + LOOK_AGAIN
    almost = NOW + SETTLE - timedelta(seconds=20)
    assert next_look(almost, since) == since + SETTLE  # not past the settle point
    assert next_look(NOW + SETTLE, since) == since + GIVE_UP
    assert next_look(NOW + GIVE_UP + timedelta(minutes=1), since) == NOW + GIVE_UP + timedelta(
        minutes=1
    )
