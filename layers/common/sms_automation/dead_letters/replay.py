"""Replay single messages through the processor, from their current table items.

Per message: *processed* (the processor answered without failing it), *still failing* (it failed
the record again, or the function itself failed), or *not found* (no such message in the table).
A message met twice in one redrive (two entries covering it) is invoked once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sms_automation.dead_letters.events import (
    SYNTHETIC_SEQUENCE_NUMBER,
    stream_event,
    stream_record,
)
from sms_automation.dead_letters.ports import MessageRef

if TYPE_CHECKING:
    from sms_automation.dead_letters.invoker import ProcessorInvoker
    from sms_automation.dead_letters.ports import EvaluationStates, StoredMessages

FAILED_AGAIN = "the processor failed it again (its log group has the error; correlation id = SID)"


class Outcome(StrEnum):
    PROCESSED = "processed"
    STILL_FAILING = "still_failing"
    NOT_FOUND = "not_found"
    WOULD_REPLAY = "would_replay"  # dry run: found, nothing invoked


@dataclass(frozen=True, slots=True)
class MessageReport:
    message_sid: str
    account: str
    outcome: Outcome
    detail: str = ""


class Replayer:
    def __init__(
        self,
        *,
        messages: StoredMessages,
        evaluations: EvaluationStates,
        invoker: ProcessorInvoker | None,  # None: dry runs only
        clock: Callable[[], datetime],
    ) -> None:
        self._messages = messages
        self._evaluations = evaluations
        self._invoker = invoker
        self._clock = clock
        self._done: dict[str, MessageReport] = {}

    def replay(
        self, messages: Iterable[MessageRef], *, stream_arn: str, dry_run: bool
    ) -> tuple[MessageReport, ...]:
        return tuple(
            self.replay_one(ref, stream_arn=stream_arn, dry_run=dry_run) for ref in messages
        )

    def replay_one(self, ref: MessageRef, *, stream_arn: str, dry_run: bool) -> MessageReport:
        earlier = self._done.get(ref.message_sid)
        if earlier is not None:
            return earlier
        report = self._replay(ref, stream_arn=stream_arn, dry_run=dry_run)
        self._done[ref.message_sid] = report
        return report

    def _replay(self, ref: MessageRef, *, stream_arn: str, dry_run: bool) -> MessageReport:
        stored = self._messages.get(ref.message_sid)
        if stored is None:
            return MessageReport(ref.message_sid, ref.account, Outcome.NOT_FOUND)
        account = stored.account or ref.account
        if dry_run:
            run = self._evaluations.get(ref.message_sid)
            state = "no run yet" if run is None else f"run {run.status}"
            return MessageReport(ref.message_sid, account, Outcome.WOULD_REPLAY, state)
        if self._invoker is None:
            raise RuntimeError("a replay needs an invoker; only dry runs go without")
        sequence_number = ref.sequence_number or SYNTHETIC_SEQUENCE_NUMBER
        record = stream_record(
            stored.image, sequence_number=sequence_number, stream_arn=stream_arn, now=self._clock()
        )
        result = self._invoker.invoke(stream_event([record]))
        if result.function_error:
            return MessageReport(
                ref.message_sid, account, Outcome.STILL_FAILING, result.function_error
            )
        if result.failed_items:
            return MessageReport(ref.message_sid, account, Outcome.STILL_FAILING, FAILED_AGAIN)
        return MessageReport(ref.message_sid, account, Outcome.PROCESSED)
