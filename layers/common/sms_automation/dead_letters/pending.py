"""Inbound messages (and automation runs) of an account received (started) in a time window
whose processing never finished.

For batches the stream no longer holds (older than 24 hours): the messages stay in the table,
indexed by account and receive time (``ports.ReceivedMessages``), and each one's evaluation
tells whether the processor finished it (completed, stopped, no_triggers). A replay of a
finished one would do nothing anyway; they are skipped so the report shows only what needed a
replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from sms_automation.dead_letters.ports import MessageRef

if TYPE_CHECKING:
    from sms_automation.dead_letters.ports import EvaluationStates, ReceivedMessages


def unfinished_messages(
    received: ReceivedMessages,
    evaluations: EvaluationStates,
    account: str,
    *,
    since: datetime,
    until: datetime,
) -> Iterator[MessageRef]:
    """Oldest first; ``since`` and ``until`` are inclusive (millisecond precision)."""
    for sid in received.received_between(account, since, until):
        evaluation = evaluations.get(sid)
        if evaluation is None or not evaluation.finished:
            yield MessageRef(sid, account)
