"""A failed batch's sequence range → the inbound messages in it, read back from the stream.

Only while the stream still holds the records (24 hours): after that GetShardIterator answers
``TrimmedDataAccessException`` (or the closed shard is gone altogether) and the batch can only
be replayed by receive time (``pending``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from botocore.exceptions import ClientError

from sms_automation import keys
from sms_automation.dlq.batch import FailedBatch

_PAGE = 1000  # GetRecords' maximum
_MAX_EMPTY_PAGES = 3  # an open shard answers empty pages past its newest record
_GONE = frozenset(
    {"TrimmedDataAccessException", "ResourceNotFoundException", "ExpiredIteratorException"}
)


class StreamsClient(Protocol):
    """The two DynamoDB Streams calls used here (a boto3 ``dynamodbstreams`` client)."""

    def get_shard_iterator(
        self, *, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber: str
    ) -> Mapping[str, Any]: ...

    def get_records(self, *, ShardIterator: str, Limit: int) -> Mapping[str, Any]: ...


class StreamState(StrEnum):
    HELD = "held"  # the whole range was read back
    EXPIRED = "expired"  # trimmed (older than 24 hours) or the shard is gone
    INCOMPLETE = "incomplete"  # the shard ended before the range did


@dataclass(frozen=True, slots=True)
class MessageRef:
    message_sid: str
    account: str = ""  # "" when not known from the stream
    sequence_number: str = ""  # the original stream record's, when known


@dataclass(frozen=True, slots=True)
class Resolution:
    state: StreamState
    messages: tuple[MessageRef, ...] = ()
    detail: str = ""


class BatchResolver:
    def __init__(self, client: StreamsClient) -> None:
        self._client = client

    def resolve(self, batch: FailedBatch) -> Resolution:
        try:
            return self._read(batch)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in _GONE:
                raise
            return Resolution(
                StreamState.EXPIRED,
                detail=f"the stream no longer holds these records ({code})",
            )

    def _read(self, batch: FailedBatch) -> Resolution:
        iterator: str | None = self._client.get_shard_iterator(
            StreamArn=batch.stream_arn,
            ShardId=batch.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch.start_sequence_number,
        )["ShardIterator"]
        end = int(batch.end_sequence_number)
        found: list[MessageRef] = []
        empty_pages = 0
        while iterator and empty_pages < _MAX_EMPTY_PAGES:
            page = self._client.get_records(ShardIterator=iterator, Limit=_PAGE)
            records = page.get("Records", [])
            for record in records:
                sequence_number = str(record["dynamodb"]["SequenceNumber"])
                if int(sequence_number) > end:
                    return Resolution(StreamState.HELD, tuple(found))
                ref = inbound_message_ref(record)
                if ref is not None and batch.covers(sequence_number):
                    found.append(ref)
                if int(sequence_number) == end:
                    return Resolution(StreamState.HELD, tuple(found))
            empty_pages = 0 if records else empty_pages + 1
            iterator = page.get("NextShardIterator")
        return Resolution(
            StreamState.INCOMPLETE,
            tuple(found),
            detail="the shard ended before the batch's last sequence number",
        )


def inbound_message_ref(record: Mapping[str, Any]) -> MessageRef | None:
    """The message (or automation run) a stream record inserted; None for what the
    processor's filter drops."""
    if record.get("eventName") != "INSERT":
        return None
    change = record.get("dynamodb") or {}
    image = change.get("NewImage") or {}
    if _string(image, "kind") not in keys.PROCESSED_KINDS:
        return None
    sid = _string(image, "message_sid") or _string(change.get("Keys") or {}, keys.PK).removeprefix(
        "MSG#"
    )
    if not sid:
        return None
    return MessageRef(sid, _string(image, "account"), str(change.get("SequenceNumber", "")))


def _string(image: Mapping[str, Any], name: str) -> str:
    value = image.get(name)
    return str(value.get("S", "")) if isinstance(value, dict) else ""
