"""The trigger processor: DynamoDB stream → each new inbound message through its account's
triggers, exactly once; the retry queue → each deferred one again.

Records are settled one by one (``edge.batch``: a failed record is reported, the event source
mapping retries it, bisecting the batch, then sends it to the DLQ). A record that cannot be
settled yet (``RetryLater``: a step's claim is held, its outcome unknown) is deferred to the
retry queue (``processing.deferral``), which delivers it back here later; should that fail, it
is reported failed too. One line per record (its outcome and metrics), and one for a batch in
which a record failed (``RecordsFailed``): a batch that went fine adds nothing to its records'
lines (it was 611 bytes per message at an even volume, one record per batch: docs/cost.md).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from sms_automation.adapters.stream_records import message_from_record
from sms_automation.composition.runtime import Runtime
from sms_automation.edge.batch import Record, is_queue_message, settle_each
from sms_automation.edge.log_lines import Count, LambdaContextLike, LogLine, LogLines
from sms_automation.processing.evaluations import is_automation_run
from sms_automation.processing.retry_later import RetryLater

if TYPE_CHECKING:
    # Imported when a record is deferred or a deferral comes back (``_replay_deferred``).
    from sms_automation.processing.deferral import Deferral

log_lines = LogLines.from_environ(os.environ, "trigger-processor")


@cache
def _runtime() -> Runtime:
    return Runtime.from_environ(os.environ)


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    """A batch in which a record failed writes a line counting them (``RecordsFailed``, on
    the dashboard; no alarm reads it: the DLQ's is the one that pages)."""
    records = event.get("Records", [])
    result = settle_each(
        records,
        lambda record: _settle(record, context),
        lambda record, error: _failed(error, context),
    )
    if result.failed:
        batch = LogLine(
            "WARNING",
            "batch processed, records failed",
            {"records": result.records, "failed": len(result.failed)},
            (Count(name="RecordsFailed", value=len(result.failed)),),
        )
        log_lines.write(batch, context)
    return result.response()


def _settle(record: Record, context: LambdaContextLike) -> bool:
    if is_queue_message(record):
        return _replay_deferred(record, context)
    return _process(record, context, earlier=None)


def process_message(message: dict[str, Any], context: LambdaContextLike) -> None:
    """One message (or automation run) through its triggers, and its line."""
    # Loaded by the intake (``handle_inbound``): a conversation's routing, the loop guard's status.
    from sms_automation.conversations.service import ReplyRouting
    from sms_automation.processing.intake import OWN

    runtime = _runtime()
    routing, result = runtime.handle_inbound(message)
    evaluation = result.evaluation
    fields: dict[str, Any] = {"account": message["account"]}
    counts = []
    if is_automation_run(message):
        fields |= {"automation": message["automation"], "source": message.get("source", "")}
        counts.append(Count(name="AutomationRunsProcessed"))
    else:
        counts.append(Count(name="MessagesProcessed"))
    if routing is not ReplyRouting.NOT_A_REPLY:
        counts.append(Count(name="ConversationReplies"))
    if evaluation.matched:
        counts.append(Count(name="TriggersMatched", value=len(evaluation.matched)))
    if evaluation.status == OWN:
        counts.append(Count(name="MessagesFromOwnNumber"))
    counts.append(Count(name="SendsCapped", value=runtime.take_sends_capped()))
    opt_outs = runtime.take_opt_out_counts()
    counts.append(Count(name="OptOuts", value=opt_outs.opt_outs))
    counts.append(Count(name="OptIns", value=opt_outs.opt_ins))
    counts.append(Count(name="SendsToOptedOut", value=opt_outs.sends_skipped))
    fields |= {
        "status": evaluation.status,
        "trigger_version": evaluation.trigger_version,
        "matched": list(evaluation.matched),
        "replayed": result.replayed,
        "attempts": evaluation.attempts,
        "steps": result.steps_performed,
        "conversation_reply": routing.value,
    }
    processed = LogLine("INFO", "message processed", fields, tuple(counts))
    log_lines.write(processed, context, message["message_sid"])


def _process(record: Record, context: LambdaContextLike, earlier: Deferral | None) -> bool:
    """Processed (or deferred): True; to be retried by its source: False."""
    message: dict[str, Any] = {}
    try:
        message = message_from_record(record)
        process_message(message, context)
    except RetryLater as later:
        # Another attempt holds a step, or a step's outcome is still unknown: not an error.
        deferred = _runtime().deferrals.defer(later, message, record, earlier)
        fields = {"account": message.get("account"), "reason": str(later)}
        if deferred.sent:
            line = LogLine(
                "WARNING",
                "record deferred to the retry queue",
                fields | {"delay_seconds": deferred.delay, "deferrals": _count(deferred.deferral)},
                (Count(name="RecordsDeferred"),),
            )
        else:
            line = LogLine(
                "WARNING",
                "record deferred; reported for retry",
                fields | {"not_queued": deferred.reason, "deferrals": _count(deferred.deferral)},
            )
        log_lines.write(line, context, message.get("message_sid"))
        return deferred.sent
    except Exception as error:
        # A poison record may not even read as a message: the line says what it can.
        failed = LogLine(
            "ERROR",
            "record failed; reported for retry",
            {"account": message.get("account")},
            error=error,
        )
        log_lines.write(failed, context, message.get("message_sid"))
        return False
    return True


def _replay_deferred(queued: Record, context: LambdaContextLike) -> bool:
    """A retry queue message: its message replayed from the table (gone: nothing to do)."""
    from sms_automation.processing.deferral import Deferral

    deferral: Deferral | None = None
    try:
        deferral = Deferral.from_body(str(queued.get("body", "")))
        record = _runtime().deferrals.replay_record(deferral)
    except Exception as error:
        failed = LogLine("ERROR", "deferred record failed; reported for retry", {}, error=error)
        log_lines.write(failed, context, deferral.message_sid if deferral else None)
        return False
    if record is None:
        gone = LogLine("WARNING", "deferred message is gone", {"account": deferral.account})
        log_lines.write(gone, context, deferral.message_sid)
        return True
    return _process(record, context, earlier=deferral)


def _failed(error: Exception, context: LambdaContextLike) -> None:
    """Settling raised past its own handling (it reports what it can itself): still a line."""
    failed = LogLine("ERROR", "record failed; reported for retry", {}, error=error)
    log_lines.write(failed, context)


def _count(deferral: Deferral | None) -> int:
    return deferral.deferrals if deferral else 0
