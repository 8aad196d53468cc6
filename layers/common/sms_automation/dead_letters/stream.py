"""A failed batch's sequence range → the inbound messages in it, read back from the stream.

Only while the stream still holds the records (24 hours): after that the stream answers that
they are gone (``ports.StreamRecordsGone``) and the batch can only be replayed by receive time
(``pending``). The stream is a port (``ports.StreamRecords``; DynamoDB Streams:
``adapters.dynamo_stream``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sms_automation.dead_letters.batch import FailedBatch
from sms_automation.dead_letters.ports import MessageRef, StreamRecordsGone

if TYPE_CHECKING:
    from sms_automation.dead_letters.ports import StreamRecords


class StreamState(StrEnum):
    HELD = "held"  # the whole range was read back
    EXPIRED = "expired"  # trimmed (older than 24 hours) or the shard is gone
    INCOMPLETE = "incomplete"  # the shard ended before the range did


@dataclass(frozen=True, slots=True)
class Resolution:
    state: StreamState
    messages: tuple[MessageRef, ...] = ()
    detail: str = ""


class BatchResolver:
    def __init__(self, records: StreamRecords) -> None:
        self._records = records

    def resolve(self, batch: FailedBatch) -> Resolution:
        try:
            return self._read(batch)
        except StreamRecordsGone as gone:
            return Resolution(
                StreamState.EXPIRED,
                detail=f"the stream no longer holds these records ({gone.code})",
            )

    def _read(self, batch: FailedBatch) -> Resolution:
        end = int(batch.end_sequence_number)
        found: list[MessageRef] = []
        positions = self._records.read_from(
            batch.stream_arn, batch.shard_id, batch.start_sequence_number
        )
        for position in positions:
            sequence_number = int(position.sequence_number)
            if sequence_number > end:
                return Resolution(StreamState.HELD, tuple(found))
            if position.message is not None and batch.covers(position.sequence_number):
                found.append(position.message)
            if sequence_number == end:
                return Resolution(StreamState.HELD, tuple(found))
        return Resolution(
            StreamState.INCOMPLETE,
            tuple(found),
            detail="the shard ended before the batch's last sequence number",
        )
