"""The send guard's DynamoDB lanes against moto's DynamoDB with the template's table: the key
layout and TTL, the conditional write that lets only one of two concurrent counters take a
version, two DynamoDB calls per counted send, and failures as ``CounterUnavailable``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from sms_automation.adapters.send_counter import DynamoSendCounter
from sms_automation.send_cap import SendCap
from sms_automation.send_guard import CounterUnavailable, Lane, LaneCount, Refusal, SendGuard
from tests.support.aws import (
    DYNAMODB_FAILURES,
    CallCounting,
    FailingDynamoDB,
    use_dummy_aws_credentials,
)
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

LANE = Lane("acme", "+15005550006", "+14155550101")
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        kwargs = create_table_kwargs()
        boto3.client("dynamodb").create_table(**kwargs)
        yield str(kwargs["TableName"])


def test_a_lane_is_one_item_with_its_slots_kind_and_expiry(table: str) -> None:
    counter = DynamoSendCounter(table, boto3.client("dynamodb"))

    assert counter.read(LANE) == LaneCount()
    assert counter.write(LANE, {"s1": 1_000}, seen=0, expires_at=1_700)

    item = boto3.client("dynamodb").get_item(
        TableName=table,
        Key={"pk": {"S": "SENDS#acme#+15005550006#+14155550101"}, "sk": {"S": "SENDS"}},
    )["Item"]
    assert item["kind"] == {"S": "send_lane"}
    assert item["expires_at"] == {"N": "1700"}
    assert counter.read(LANE) == LaneCount({"s1": 1_000}, 1)


def test_only_one_of_two_writers_that_read_the_same_version_wins(table: str) -> None:
    counter = DynamoSendCounter(table, boto3.client("dynamodb"))

    assert counter.write(LANE, {"a": 1}, seen=0, expires_at=9) is True
    assert counter.write(LANE, {"b": 1}, seen=0, expires_at=9) is False  # no item: taken
    assert counter.write(LANE, {"a": 1, "c": 2}, seen=1, expires_at=9) is True
    assert counter.write(LANE, {"a": 1, "d": 2}, seen=1, expires_at=9) is False  # moved on

    assert counter.read(LANE) == LaneCount({"a": 1, "c": 2}, 2)


class Overlapped(DynamoSendCounter):
    """Runs ``meanwhile`` (another Lambda's whole send) between this one's read and write."""

    meanwhile: Callable[[], object] | None = None

    def write(self, lane: Lane, slots: Mapping[str, int], *, seen: int, expires_at: int) -> bool:
        if self.meanwhile is not None:
            other, self.meanwhile = self.meanwhile, None
            other()
        return super().write(lane, slots, seen=seen, expires_at=expires_at)


def test_two_overlapping_sends_on_the_last_slot_one_is_sent(table: str) -> None:
    cap = SendCap(1, 600)
    first = Overlapped(table, boto3.client("dynamodb"))
    second = SendGuard(
        DynamoSendCounter(table, boto3.client("dynamodb")), lambda a: cap, lambda: NOW
    )
    others: list[Refusal | None] = []
    first.meanwhile = lambda: others.append(second.admit(LANE, "theirs"))

    mine = SendGuard(first, lambda a: cap, lambda: NOW).admit(LANE, "mine")

    assert others == [None]  # the other Lambda took the slot while this one decided
    assert mine is not None
    assert mine.counted == 1
    assert len(first.read(LANE).slots) == 1


def test_a_counted_send_costs_one_read_and_one_write_a_refusal_one_read(table: str) -> None:
    client = CallCounting(boto3.client("dynamodb"))
    guard = SendGuard(
        DynamoSendCounter(table, client), lambda account: SendCap(1, 600), lambda: NOW
    )  # type: ignore[arg-type]

    assert guard.admit(LANE, "first") is None
    counted = list(client.calls)
    assert guard.admit(LANE, "second") is not None

    assert counted == ["GetItem", "PutItem"]
    assert client.calls[len(counted) :] == ["GetItem"]


@pytest.mark.parametrize("error", DYNAMODB_FAILURES)
def test_a_dynamodb_failure_is_counter_unavailable_never_an_admission(error: Exception) -> None:
    counter = DynamoSendCounter("t", FailingDynamoDB(error))  # type: ignore[arg-type]

    with pytest.raises(CounterUnavailable, match="could not read the send count"):
        counter.read(LANE)
    with pytest.raises(CounterUnavailable, match="could not count the send"):
        counter.write(LANE, {}, seen=0, expires_at=0)
