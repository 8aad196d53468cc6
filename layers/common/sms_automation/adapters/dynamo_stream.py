"""``dead_letters.ports.StreamRecords`` on DynamoDB Streams: a shard read from a sequence number on,
each record reduced to its sequence number and the message (or automation run) it inserted.

After 24 hours GetShardIterator answers ``TrimmedDataAccessException`` (or the closed shard is
gone altogether): ``StreamRecordsGone``. Any other error is raised as botocore raised it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from botocore.exceptions import ClientError

from sms_automation import keys
from sms_automation.adapters.dynamo_json import string_value
from sms_automation.dead_letters.ports import MessageRef, StreamPosition, StreamRecordsGone

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


class DynamoStreamRecords:
    def __init__(self, client: StreamsClient) -> None:
        self._client = client

    def read_from(
        self, stream_arn: str, shard_id: str, sequence_number: str
    ) -> Iterator[StreamPosition]:
        try:
            yield from self._read(stream_arn, shard_id, sequence_number)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in _GONE:
                raise
            raise StreamRecordsGone(code) from error

    def _read(
        self, stream_arn: str, shard_id: str, sequence_number: str
    ) -> Iterator[StreamPosition]:
        iterator: str | None = self._client.get_shard_iterator(
            StreamArn=stream_arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=sequence_number,
        )["ShardIterator"]
        empty_pages = 0
        while iterator and empty_pages < _MAX_EMPTY_PAGES:
            page = self._client.get_records(ShardIterator=iterator, Limit=_PAGE)
            records = page.get("Records", [])
            for record in records:
                yield StreamPosition(
                    str(record["dynamodb"]["SequenceNumber"]), inbound_message_ref(record)
                )
            empty_pages = 0 if records else empty_pages + 1
            iterator = page.get("NextShardIterator")


def inbound_message_ref(record: Mapping[str, Any]) -> MessageRef | None:
    """The message (or automation run) a stream record inserted; None for what the
    processor's filter drops."""
    if record.get("eventName") != "INSERT":
        return None
    change = record.get("dynamodb") or {}
    image = change.get("NewImage") or {}
    if string_value(image, "kind") not in keys.PROCESSED_KINDS:
        return None
    sid = string_value(image, "message_sid") or string_value(
        change.get("Keys") or {}, keys.PK
    ).removeprefix("MSG#")
    if not sid:
        return None
    return MessageRef(sid, string_value(image, "account"), str(change.get("SequenceNumber", "")))
