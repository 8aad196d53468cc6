"""Lambda's on-failure invocation record for a DynamoDB stream batch, as a typed value.

The record describes the batch (shard, sequence range, arrival times) and why it was dropped;
it holds no stream record and no message text. The shape (AWS Lambda developer guide,
"Retaining discarded records for a DynamoDB event source")::

    {"requestContext": {"requestId": "…", "functionArn": "arn:aws:lambda:…",
                        "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                         "functionError": "Unhandled"},
     "version": "1.0", "timestamp": "2025-06-05T18:22:26.479Z",
     "DDBStreamBatchInfo": {"shardId": "shardId-…", "startSequenceNumber": "…",
                            "endSequenceNumber": "…",
                            "approximateArrivalOfFirstRecord": "2025-06-05T18:21:49Z",
                            "approximateArrivalOfLastRecord": "2025-06-05T18:21:49Z",
                            "batchSize": 1, "streamArn": "arn:aws:dynamodb:…/stream/…"}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# DynamoDB Streams keeps records for 24 hours; after that a batch can no longer be read back.
STREAM_RETENTION = timedelta(hours=24)


class MalformedEntry(ValueError):
    """A DLQ message that is not an invocation record of a DynamoDB stream batch."""


@dataclass(frozen=True, slots=True)
class FailedBatch:
    condition: str  # RetryAttemptsExhausted, RecordAgeExceeded, …
    attempts: int  # requestContext.approximateInvokeCount
    function_arn: str
    function_error: str  # responseContext.functionError ("" when the function answered)
    failed_at: datetime  # the record's timestamp
    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    first_arrival: datetime
    last_arrival: datetime
    batch_size: int
    stream_arn: str

    def covers(self, sequence_number: str) -> bool:
        """Whether a stream record of this shard lies in the batch's sequence range."""
        return (
            int(self.start_sequence_number) <= int(sequence_number) <= int(self.end_sequence_number)
        )

    def past_stream_retention(self, now: datetime) -> bool:
        return now - self.first_arrival >= STREAM_RETENTION


def parse_failed_batch(body: str) -> FailedBatch:
    """The invocation record in a DLQ message body; :class:`MalformedEntry` if it is not one."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise MalformedEntry(f"not JSON ({error})") from error
    if not isinstance(document, dict):
        raise MalformedEntry("not a JSON object")
    request = _section(document, "requestContext")
    response = document.get("responseContext")
    response = {} if response is None else response
    info = _section(document, "DDBStreamBatchInfo")
    if not isinstance(response, dict):
        raise MalformedEntry("responseContext is not an object")
    start = _sequence_number(info, "startSequenceNumber")
    end = _sequence_number(info, "endSequenceNumber")
    if int(start) > int(end):
        raise MalformedEntry("startSequenceNumber is after endSequenceNumber")
    return FailedBatch(
        condition=_text(request, "condition", "requestContext"),
        attempts=_count(request, "approximateInvokeCount", "requestContext"),
        function_arn=str(request.get("functionArn") or ""),
        function_error=str(response.get("functionError") or ""),
        failed_at=_time(document, "timestamp", "the record"),
        shard_id=_text(info, "shardId", "DDBStreamBatchInfo"),
        start_sequence_number=start,
        end_sequence_number=end,
        first_arrival=_time(info, "approximateArrivalOfFirstRecord", "DDBStreamBatchInfo"),
        last_arrival=_time(info, "approximateArrivalOfLastRecord", "DDBStreamBatchInfo"),
        batch_size=_count(info, "batchSize", "DDBStreamBatchInfo"),
        stream_arn=_stream_arn(info),
    )


def _section(document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = document.get(name)
    if not isinstance(section, dict):
        raise MalformedEntry(f"no {name} object (not a DynamoDB stream invocation record)")
    return section


def _text(section: Mapping[str, Any], name: str, where: str) -> str:
    value = section.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedEntry(f"{where}.{name} is missing or not a string")
    return value


def _count(section: Mapping[str, Any], name: str, where: str) -> int:
    value = section.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedEntry(f"{where}.{name} is missing or not a whole number")
    return value


def _sequence_number(info: Mapping[str, Any], name: str) -> str:
    value = _text(info, name, "DDBStreamBatchInfo")
    if not value.isdigit():
        raise MalformedEntry(f"DDBStreamBatchInfo.{name} is not a sequence number")
    return value


def _time(section: Mapping[str, Any], name: str, where: str) -> datetime:
    text = _text(section, name, where)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise MalformedEntry(f"{where}.{name} is not an ISO 8601 time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _stream_arn(info: Mapping[str, Any]) -> str:
    arn = _text(info, "streamArn", "DDBStreamBatchInfo")
    if not arn.startswith("arn:") or ":dynamodb:" not in arn or "/stream/" not in arn:
        raise MalformedEntry("DDBStreamBatchInfo.streamArn is not a DynamoDB stream ARN")
    return arn
