"""DynamoDB stream → each new inbound message through its account's triggers, exactly once.

Records go through Powertools' ``BatchProcessor``: a record that fails is reported as a batch
item failure (the event source mapping retries it, bisecting the batch, then sends it to the
DLQ) while the records beside it are processed. All the logic is in
``sms_automation.processing``; this module wires clients, logs and metrics.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from sms_automation.conversations.service import ReplyRouting
from sms_automation.processing.runtime import Runtime
from sms_automation.processing.stream import message_from_image

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "trigger-processor"
logger = Logger(service=_SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SmsAutomation", service=_SERVICE
)
# Report every failed record, even when all failed: the event source mapping then retries from
# the first failed record (a raised error would make it bisect and retry the whole batch).
batch = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


@cache
def _runtime() -> Runtime:
    return Runtime.from_environ(os.environ)


def record_handler(record: DynamoDBRecord) -> None:
    message = message_from_image(record)
    logger.set_correlation_id(message["message_sid"])
    logger.append_keys(account=message["account"])
    routing, result = _runtime().handle_inbound(message)
    run = result.run
    if message.get("kind") == "automation_run":
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
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=batch, context=context
    )
    # Every invocation reports its failures (0 too): the alarm on them needs a steady series.
    failed = len(response.get("batchItemFailures", []))
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=failed)
    return response
