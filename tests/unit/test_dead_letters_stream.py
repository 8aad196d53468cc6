"""A failed batch's sequence range read back from the stream: which messages, or gone."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sms_automation.adapters.dynamo_stream import DynamoStreamRecords
from sms_automation.dead_letters.batch import FailedBatch, parse_failed_batch
from sms_automation.dead_letters.ports import MessageRef
from sms_automation.dead_letters.stream import BatchResolver, Resolution, StreamState

RECORD_PATH = (
    Path(__file__).resolve().parents[1] / "fixtures" / "dead_letter_invocation_record.json"
)
START = 800000000003126276362
END = 800000000003126276399


def batch() -> FailedBatch:
    return parse_failed_batch(RECORD_PATH.read_text(encoding="utf-8"))


def resolve(streams: FakeStreams) -> Resolution:
    """The batch resolved through the DynamoDB Streams adapter on a fake client."""
    return BatchResolver(DynamoStreamRecords(streams)).resolve(batch())


def inbound(
    sequence: int, sid: str, account: str = "acme", kind: str = "inbound_message"
) -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"pk": {"S": f"MSG#{sid}"}, "sk": {"S": "MSG"}},
            "NewImage": {
                "kind": {"S": kind},
                "message_sid": {"S": sid},
                "account": {"S": account},
            },
            "SequenceNumber": str(sequence),
        },
    }


def other(sequence: int, event: str = "INSERT", kind: str = "run") -> dict[str, Any]:
    return {
        "eventName": event,
        "dynamodb": {"NewImage": {"kind": {"S": kind}}, "SequenceNumber": str(sequence)},
    }


class FakeStreams:
    """A shard's records from ``AT_SEQUENCE_NUMBER``, in pages; or an error code."""

    def __init__(self, records: list[dict[str, Any]], page: int = 2, error: str = "") -> None:
        self.records = records
        self.page = page
        self.error = error
        self.iterator_requests: list[Mapping[str, str]] = []

    def get_shard_iterator(
        self, *, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber: str
    ) -> Mapping[str, Any]:
        self.iterator_requests.append(
            {"arn": StreamArn, "shard": ShardId, "type": ShardIteratorType, "at": SequenceNumber}
        )
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "GetShardIterator")
        at = int(SequenceNumber)
        position = next(
            (i for i, r in enumerate(self.records) if int(r["dynamodb"]["SequenceNumber"]) >= at),
            len(self.records),
        )
        return {"ShardIterator": json.dumps(position)}

    def get_records(self, *, ShardIterator: str, Limit: int) -> Mapping[str, Any]:
        position = json.loads(ShardIterator)
        page = self.records[position : position + self.page]
        return {"Records": page, "NextShardIterator": json.dumps(position + len(page))}


def test_batch_resolver_reads_the_range_from_its_start_sequence_number() -> None:
    streams = FakeStreams([inbound(START, "SM1"), inbound(END, "SM2", "globex")])

    resolution = resolve(streams)

    assert streams.iterator_requests == [
        {
            "arn": batch().stream_arn,
            "shard": batch().shard_id,
            "type": "AT_SEQUENCE_NUMBER",
            "at": str(START),
        }
    ]
    assert resolution.state is StreamState.HELD
    assert resolution.messages == (
        MessageRef("SM1", "acme", str(START)),
        MessageRef("SM2", "globex", str(END)),
    )


def test_batch_resolver_keeps_only_inbound_inserts_inside_the_range() -> None:
    streams = FakeStreams(
        [
            inbound(START - 1, "SM0"),  # before: the shard iterator skips it
            inbound(START, "SM1"),
            other(START + 1),  # an evaluation: the processor's filter drops it
            other(START + 2, event="MODIFY", kind="inbound_message"),
            inbound(START + 3, "SM2"),
            inbound(START + 4, "RU1", kind="automation_run"),  # a run's origin: replayed too
            inbound(END + 1, "SM3"),  # after the range
            inbound(END + 2, "SM4"),
        ]
    )

    resolution = resolve(streams)

    assert resolution.state is StreamState.HELD
    assert [m.message_sid for m in resolution.messages] == ["SM1", "SM2", "RU1"]


def test_batch_resolver_reports_a_trimmed_range_as_expired() -> None:
    resolution = resolve(FakeStreams([], error="TrimmedDataAccessException"))
    assert resolution.state is StreamState.EXPIRED
    assert resolution.messages == ()
    assert "no longer holds" in resolution.detail


def test_batch_resolver_reports_a_deleted_shard_as_expired() -> None:
    resolution = resolve(FakeStreams([], error="ResourceNotFoundException"))
    assert resolution.state is StreamState.EXPIRED


def test_batch_resolver_raises_other_stream_errors() -> None:
    """An access error must reach the operator, not read as 'expired'."""
    streams = FakeStreams([], error="AccessDeniedException")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        resolve(streams)


def test_batch_resolver_open_shard_ending_before_the_range_is_incomplete() -> None:
    resolution = resolve(FakeStreams([inbound(START, "SM1")]))
    assert resolution.state is StreamState.INCOMPLETE
    assert [m.message_sid for m in resolution.messages] == ["SM1"]
