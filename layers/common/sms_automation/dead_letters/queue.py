"""A dead letter: one message of the queue, with the failed batch it describes (or why not).

The queue itself is a port (``ports.DeadLetterQueue``; in SQS: ``adapters.dead_letter_queue``).
Receiving hides an entry for the visibility timeout; ``release`` makes it visible again at once, so
listing or a dry run leaves the queue as it found it. An entry is deleted only after a
successful replay.
"""

from __future__ import annotations

from dataclasses import dataclass

from sms_automation.dead_letters.batch import FailedBatch, MalformedEntry, parse_failed_batch


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message_id: str
    receipt_handle: str
    batch: FailedBatch | None  # None: malformed, see ``problem``
    problem: str = ""


def dead_letter(message_id: str, receipt_handle: str, body: str) -> DeadLetter:
    """The entry of a received message; a malformed one says why in ``problem``."""
    try:
        batch = parse_failed_batch(body)
    except MalformedEntry as error:
        return DeadLetter(message_id, receipt_handle, None, str(error))
    return DeadLetter(message_id, receipt_handle, batch)
