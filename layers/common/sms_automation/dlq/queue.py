"""A DLQ entry: one message of the queue, with the failed batch it describes (or why not).

The queue itself is a port (``ports.DlqQueue``; in SQS: ``adapters.dlq_queue``). Receiving
hides an entry for the visibility timeout; ``release`` makes it visible again at once, so
listing or a dry run leaves the queue as it found it. An entry is deleted only after a
successful replay.
"""

from __future__ import annotations

from dataclasses import dataclass

from sms_automation.dlq.batch import FailedBatch, MalformedEntry, parse_failed_batch


@dataclass(frozen=True, slots=True)
class DlqEntry:
    message_id: str
    receipt_handle: str
    batch: FailedBatch | None  # None: malformed, see ``problem``
    problem: str = ""


def dlq_entry(message_id: str, receipt_handle: str, body: str) -> DlqEntry:
    """The entry of a received message; a malformed one says why in ``problem``."""
    try:
        batch = parse_failed_batch(body)
    except MalformedEntry as error:
        return DlqEntry(message_id, receipt_handle, None, str(error))
    return DlqEntry(message_id, receipt_handle, batch)
