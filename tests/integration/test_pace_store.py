"""The senders' buckets in DynamoDB (moto, the template's table): the key layout and TTL, the
conditional write that lets only one of two Lambdas racing for the last segment take it, the
place a bulk send holds in the queue, a 429's slow-down kept for every Lambda, what a paced
send costs in DynamoDB calls, and failures as ``PacingUnavailable``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation.adapters.pace_store import DynamoPaceStore
from sms_automation.processing.pacing import (
    Bucket,
    Pacer,
    PacingUnavailable,
    Priority,
    Sender,
    SendPaced,
    place_of,
)
from tests.support.aws import (
    DYNAMODB_FAILURES,
    CallCounting,
    FailingDynamoDB,
    use_dummy_aws_credentials,
)
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

SENDER = Sender("acme", "+15005550006")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        kwargs = create_table_kwargs()
        boto3.client("dynamodb").create_table(**kwargs)
        yield str(kwargs["TableName"])


class Overlapped(DynamoPaceStore):
    """Runs ``meanwhile`` (another Lambda's whole admission) between this one's read and
    write."""

    meanwhile: Callable[[], object] | None = None

    def write(self, sender: Sender, bucket: Bucket, *, seen: int, expires_at: int) -> bool:
        if self.meanwhile is not None:
            other, self.meanwhile = self.meanwhile, None
            other()
        return super().write(sender, bucket, seen=seen, expires_at=expires_at)


def pacer(store: Any, slept: list[float] | None = None, now: datetime = NOW) -> Pacer:
    return Pacer(
        store, lambda account: {}, lambda: now, (slept if slept is not None else []).append
    )


def test_a_bucket_is_one_item_with_its_kind_and_expiry(table: str) -> None:
    store = DynamoPaceStore(table, boto3.client("dynamodb"))

    assert store.read(SENDER) == Bucket()
    pacer(store).admit(SENDER, cost=1, priority=Priority.REPLY, key="k")

    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": "PACE#acme#+15005550006"}, "sk": {"S": "PACE"}}
    )["Item"]
    assert item["kind"] == {"S": "send_pace"}
    assert item["expires_at"] == {"N": str((NOW_MS + 1000) // 1000 + 86_400)}
    assert store.read(SENDER) == Bucket(tat=NOW_MS + 1000, queue=0, factor=1.0, version=1)


def test_only_one_of_two_writers_that_read_the_same_version_wins(table: str) -> None:
    store = DynamoPaceStore(table, boto3.client("dynamodb"))

    assert store.write(SENDER, Bucket(tat=1), seen=0, expires_at=9) is True
    assert store.write(SENDER, Bucket(tat=2), seen=0, expires_at=9) is False  # no item: taken
    assert store.write(SENDER, Bucket(tat=3), seen=1, expires_at=9) is True
    assert store.write(SENDER, Bucket(tat=4), seen=1, expires_at=9) is False  # moved on
    assert store.read(SENDER).tat == 3


def test_two_lambdas_racing_for_the_last_segment_one_sends_the_other_waits(table: str) -> None:
    DynamoPaceStore(table, boto3.client("dynamodb")).write(
        SENDER, Bucket(tat=NOW_MS + 3000), seen=0, expires_at=9_999_999_999
    )  # a long code: one reply's segment left within the inline wait
    first = Overlapped(table, boto3.client("dynamodb"))
    theirs: list[int] = []
    other = pacer(DynamoPaceStore(table, boto3.client("dynamodb")))
    first.meanwhile = lambda: theirs.append(
        other.admit(SENDER, cost=1, priority=Priority.REPLY, key="theirs")
    )

    with pytest.raises(SendPaced) as mine:
        pacer(first).admit(SENDER, cost=1, priority=Priority.REPLY, key="mine")

    assert theirs == [1000]  # the other Lambda took the segment (and slept its second)
    assert mine.value.retry_at == NOW + timedelta(seconds=2)  # this one read that and waits
    assert first.read(SENDER) == Bucket(tat=NOW_MS + 4000, version=2)


def test_a_waiting_bulk_send_holds_its_place_for_when_it_comes_back(table: str) -> None:
    store = DynamoPaceStore(table, boto3.client("dynamodb"))
    store.write(SENDER, Bucket(tat=NOW_MS + 2000), seen=0, expires_at=9_999_999_999)

    with pytest.raises(SendPaced) as first:
        pacer(store).admit(SENDER, cost=1, priority=Priority.BULK, key="row-1")
    with pytest.raises(SendPaced) as second:
        pacer(store).admit(SENDER, cost=1, priority=Priority.BULK, key="row-2")

    assert first.value.retry_at == NOW + timedelta(seconds=2)
    assert second.value.retry_at == NOW + timedelta(seconds=3)  # behind it in the queue
    assert store.held_place(SENDER, place_of("row-2")) == NOW_MS + 3000
    assert store.held_place(SENDER, place_of("row-9")) is None
    back = NOW + timedelta(seconds=2)
    pacer(store, now=back).admit(SENDER, cost=1, priority=Priority.BULK, key="row-1")
    with pytest.raises(SendPaced):  # a newcomer, with row-2 still waiting: to the back
        pacer(store, now=back).admit(SENDER, cost=1, priority=Priority.BULK, key="row-3")


def test_a_bulk_send_back_before_its_place_is_deferred_to_it_not_ahead(table: str) -> None:
    store = DynamoPaceStore(table, boto3.client("dynamodb"))
    far = NOW_MS + 1_200_000  # 20 minutes of backlog ahead: further than SQS can delay
    store.write(SENDER, Bucket(tat=far, queue=far), seen=0, expires_at=9_999_999_999)
    with pytest.raises(SendPaced) as placed:
        pacer(store).admit(SENDER, cost=1, priority=Priority.BULK, key="row-1")
    assert placed.value.retry_at == NOW + timedelta(seconds=1200)

    back = NOW + timedelta(seconds=900)  # SQS's longest delay
    store.write(SENDER, Bucket(tat=NOW_MS + 900_000, queue=far + 1000), seen=2, expires_at=9)
    with pytest.raises(SendPaced) as again:
        pacer(store, now=back).admit(SENDER, cost=1, priority=Priority.BULK, key="row-1")

    assert again.value.retry_at == NOW + timedelta(seconds=1200)  # its place, kept
    assert store.read(SENDER).queue == far + 1000  # no second place taken


def test_a_429_slows_the_sender_for_every_lambda(table: str) -> None:
    store = DynamoPaceStore(table, boto3.client("dynamodb"))

    assert pacer(store).slow_down(SENDER) is True
    assert pacer(DynamoPaceStore(table, boto3.client("dynamodb"))).slow_down(SENDER) is False

    slowed = store.read(SENDER)
    assert (slowed.factor, slowed.slowed) == (0.5, NOW_MS)
    pacer(store).admit(SENDER, cost=1, priority=Priority.REPLY, key="k")
    assert store.read(SENDER).tat == NOW_MS + 2000  # a second's segment takes two now


def test_a_paced_send_costs_one_read_and_one_write_a_deferred_reply_one_read(table: str) -> None:
    client = CallCounting(boto3.client("dynamodb"))
    paced = pacer(DynamoPaceStore(table, client))  # type: ignore[arg-type]

    for n in range(4):
        paced.admit(SENDER, cost=1, priority=Priority.REPLY, key=f"k{n}")
    sent = list(client.calls)
    with pytest.raises(SendPaced):
        paced.admit(SENDER, cost=1, priority=Priority.REPLY, key="k4")

    assert sent == ["GetItem", "PutItem"] * 4
    assert client.calls[len(sent) :] == ["GetItem"]


@pytest.mark.parametrize("error", DYNAMODB_FAILURES)
def test_a_dynamodb_failure_is_pacing_unavailable_never_a_send(error: Exception) -> None:
    store = DynamoPaceStore("t", FailingDynamoDB(error))  # type: ignore[arg-type]

    with pytest.raises(PacingUnavailable, match="could not read the send rate"):
        store.read(SENDER)
    with pytest.raises(PacingUnavailable, match="could not pace the send"):
        store.write(SENDER, Bucket(), seen=0, expires_at=0)
    with pytest.raises(PacingUnavailable, match="could not hold the send's place"):
        store.hold(SENDER, "p", at_ms=0, expires_at=0)
