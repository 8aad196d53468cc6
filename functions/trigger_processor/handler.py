"""DynamoDB stream → each new inbound message through its account's triggers, exactly once;
the retry queue → each deferred one again.

A record that fails is reported as a batch item failure (the event source mapping retries it,
bisecting the batch, then sends it to the DLQ) while the records beside it are processed
(a plain loop: Powertools' ``BatchProcessor`` did the same, at a cost in cold start). A record
that cannot be settled yet (``RetryLater``: a step's claim is held, its outcome unknown) is
deferred to the retry queue instead (``processing.deferral``), which delivers it back to this
function later; should that fail, it is reported failed too. All the logic is in
``sms_automation.processing``; this module wires clients and writes one line per record
(``log_lines``: its outcome and its metrics) and one per batch.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from sms_automation.adapters.stream_records import message_from_record, sequence_number
from sms_automation.composition.runtime import OWN, Runtime
from sms_automation.conversations.service import ReplyRouting
from sms_automation.log_lines import Count, LogLine, LogLines
from sms_automation.processing.deferral import Deferral, is_retry_record
from sms_automation.processing.retry_later import RetryLater
from sms_automation.processing.runs import is_automation_run

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

log_lines = LogLines.from_environ(os.environ, "trigger-processor")


@cache
def _runtime() -> Runtime:
    return Runtime.from_environ(os.environ)


def message_handler(message: dict[str, Any], context: LambdaContext) -> None:
    runtime = _runtime()
    routing, result = runtime.handle_inbound(message)
    run = result.run
    fields: dict[str, Any] = {"account": message["account"]}
    counts = []
    if is_automation_run(message):
        fields |= {"automation": message["automation"], "source": message.get("source", "")}
        counts.append(Count(name="AutomationRunsProcessed"))
    else:
        counts.append(Count(name="MessagesProcessed"))
    if routing is not ReplyRouting.NOT_A_REPLY:
        counts.append(Count(name="ConversationReplies"))
    if run.matched:
        counts.append(Count(name="TriggersMatched", value=len(run.matched)))
    if run.status == OWN:
        counts.append(Count(name="MessagesFromOwnNumber"))
    counts.append(Count(name="SendsCapped", value=runtime.take_sends_capped()))
    opt_outs = runtime.take_opt_out_counts()
    counts.append(Count(name="OptOuts", value=opt_outs.opt_outs))
    counts.append(Count(name="OptIns", value=opt_outs.opt_ins))
    counts.append(Count(name="SendsToOptedOut", value=opt_outs.sends_skipped))
    fields |= {
        "status": run.status,
        "trigger_version": run.trigger_version,
        "matched": list(run.matched),
        "replayed": result.replayed,
        "attempts": run.attempts,
        "steps": result.steps_performed,
        "conversation_reply": routing.value,
    }
    processed = LogLine("INFO", "message processed", fields, tuple(counts))
    log_lines.write(processed, context, message["message_sid"])


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Each record on its own; every failed one is reported, even when all failed: the event
    source mapping then retries from the first failed record (a raised error would make it
    bisect and retry the whole batch). The records beside a failure are still processed."""
    failures = []
    records = event.get("Records", [])
    for record in records:
        if is_retry_record(record):
            if not _replay_deferred(record, context):
                failures.append({"itemIdentifier": str(record.get("messageId", ""))})
        elif not _process(record, context, earlier=None):
            failures.append({"itemIdentifier": sequence_number(record)})
    # Every invocation reports its failures (0 too): the alarm on them needs a steady series.
    batch = LogLine(
        "INFO",
        "batch processed",
        {"records": len(records), "failed": len(failures)},
        (Count(name="RecordsFailed", value=len(failures)),),
    )
    log_lines.write(batch, context)
    return {"batchItemFailures": failures}


def _process(record: dict[str, Any], context: LambdaContext, earlier: Deferral | None) -> bool:
    """Processed (or deferred): True; to be retried by its source: False."""
    message: dict[str, Any] = {}
    try:
        message = message_from_record(record)
        message_handler(message, context)
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


def _replay_deferred(queued: dict[str, Any], context: LambdaContext) -> bool:
    """A retry queue message: its message replayed from the table (gone: nothing to do)."""
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


def _count(deferral: Deferral | None) -> int:
    return deferral.deferrals if deferral else 0
