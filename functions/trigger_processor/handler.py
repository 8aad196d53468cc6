"""DynamoDB stream → each new inbound message through its account's triggers, exactly once.

A record that fails is reported as a batch item failure (the event source mapping retries it,
bisecting the batch, then sends it to the DLQ) while the records beside it are processed
(a plain loop: Powertools' ``BatchProcessor`` did the same, at a cost in cold start). All the
logic is in ``sms_automation.processing``; this module wires clients, logs and metrics.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sms_automation.conversations.service import ReplyRouting
from sms_automation.processing.runs import is_automation_run
from sms_automation.processing.runtime import Runtime
from sms_automation.processing.stream import message_from_record, sequence_number

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "trigger-processor"
logger = Logger(service=_SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SmsAutomation", service=_SERVICE
)


@cache
def _runtime() -> Runtime:
    return Runtime.from_environ(os.environ)


def record_handler(record: dict[str, Any]) -> None:
    message = message_from_record(record)
    logger.set_correlation_id(message["message_sid"])
    logger.append_keys(account=message["account"])
    routing, result = _runtime().handle_inbound(message)
    run = result.run
    if is_automation_run(message):
        logger.append_keys(automation=message["automation"], source=message.get("source", ""))
        metrics.add_metric(name="AutomationRunsProcessed", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="MessagesProcessed", unit=MetricUnit.Count, value=1)
    if routing is not ReplyRouting.NOT_A_REPLY:
        metrics.add_metric(name="ConversationReplies", unit=MetricUnit.Count, value=1)
    if run.matched:
        metrics.add_metric(name="TriggersMatched", unit=MetricUnit.Count, value=len(run.matched))
    logger.info(
        "message processed",
        extra={
            "status": run.status,
            "trigger_version": run.trigger_version,
            "matched": list(run.matched),
            "replayed": result.replayed,
            "attempts": run.attempts,
            "steps": result.steps_performed,
            "conversation_reply": routing.value,
        },
    )


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Each record on its own; every failed one is reported, even when all failed: the event
    source mapping then retries from the first failed record (a raised error would make it
    bisect and retry the whole batch). The records beside a failure are still processed."""
    failures = []
    for record in event.get("Records", []):
        try:
            record_handler(record)
        except Exception:
            logger.exception("record failed; reported for retry")
            failures.append({"itemIdentifier": sequence_number(record)})
        finally:
            logger.remove_keys(["correlation_id", "account", "automation", "source"])
    # Every invocation reports its failures (0 too): the alarm on them needs a steady series.
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=len(failures))
    return {"batchItemFailures": failures}
