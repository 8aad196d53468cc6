"""Partial batch failure, for every function fed by a DynamoDB stream or an SQS queue (the event
source mappings have ``ReportBatchItemFailures``).

Each record is settled on its own; every record that is not settled is reported, even when
none was: the event source mapping then retries from the first failed record (a raised error
would make it bisect and retry the whole batch), and the records beside a failure are still
processed. The same contract as Powertools' ``BatchProcessor``, without its import (asyncio and
every event data class: ~35 ms of a cold start, docs/decisions/0001-edge-stack.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class BatchResult:
    records: int
    failed: tuple[str, ...]
    """The item identifiers of the records to be retried by their source."""

    def response(self) -> dict[str, list[dict[str, str]]]:
        """What Lambda reads back: ``{"batchItemFailures": [{"itemIdentifier": ...}, ...]}``."""
        return {"batchItemFailures": [{"itemIdentifier": item} for item in self.failed]}


def settle_each(
    records: Sequence[Record],
    settle: Callable[[Record], bool],
    failed: Callable[[Record, Exception], None],
) -> BatchResult:
    """``settle`` each record: True is done, False is to be retried; an exception is reported
    to ``failed`` (to say what it can about the record) and the record is retried."""
    unsettled = []
    for record in records:
        try:
            done = settle(record)
        except Exception as error:
            failed(record, error)
            done = False
        if not done:
            unsettled.append(item_identifier(record))
    return BatchResult(len(records), tuple(unsettled))


def is_queue_message(record: Record) -> bool:
    """An SQS message, not a DynamoDB stream record."""
    return record.get("eventSource") == "aws:sqs"


def item_identifier(record: Record) -> str:
    """A queue message's ``messageId``; a stream record's sequence number."""
    if is_queue_message(record):
        return str(record.get("messageId", ""))
    stream = record.get("dynamodb") or {}
    return str(stream.get("SequenceNumber") or record.get("eventID", ""))
