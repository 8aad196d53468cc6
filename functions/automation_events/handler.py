"""EventBridge → a started automation run: an ``SMS automation start`` event on a bus (the
example rule in the template), or an EventBridge Scheduler schedule (``schedule_sync``).

Both invoke asynchronously. A rejected start (unknown automation, invalid variables, ...) is
logged and counted by reason and *not* retried: the same event would be rejected again. Any other
failure raises, so Lambda retries the event and, after its retries, sends it to the on-failure
destination (AutomationsDLQ). The idempotency key (the event's, its id, or the schedule's name
and time) makes a retry start one run.

DynamoDB failing for now (``RunStoreUnavailable``, throttling, a timeout) raises for the retry.
DynamoDB failing for good (``AccessDeniedException``, ``ResourceNotFoundException``: a role or
table misconfigured) logs an ERROR with the error code and raises too: the function's only
record of a failed event is the on-failure destination, so returning would drop the event
silently. Its two retries cannot succeed unless the cause is fixed meanwhile; then the event
waits in AutomationsDLQ (its alarm fires) to be started again once it is.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code, is_transient
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.automations import events
from sms_automation.automations.service import AutomationStarter
from sms_automation.automations.start import StartRejected, StartRequest
from sms_automation.composition.automations import dynamo_starter
from sms_automation.pii import mask_phone
from sms_automation.triggers.model import TriggerSet
from sms_automation.triggers.versions import PerVersion, StoredTriggers, parsed_trigger_files

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "automation-events"
logger = Logger(service=_SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SmsAutomation", service=_SERVICE
)

_AWS_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}
)


@cache
def _client() -> Any:
    return boto3.client("dynamodb", config=_AWS_CONFIG)


@cache
def _parsed() -> PerVersion[TriggerSet]:
    return parsed_trigger_files()


@cache
def _triggers() -> DynamoTriggerStore:
    return DynamoTriggerStore(os.environ["TABLE_NAME"], _client())


@cache
def _starter() -> AutomationStarter:
    return dynamo_starter(os.environ["TABLE_NAME"], _client(), parsed=_parsed())


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    source = "schedule" if events.is_scheduled(event) else "event"
    logger.append_keys(source=source, event_id=event.get("id"))
    try:
        request, current = _request(event)
        logger.append_keys(account=request.account, automation=request.automation)
        started = _starter().start(request, current)
    except StartRejected as rejected:
        _count_rejection(rejected.reason.value)
        logger.warning(
            "automation start rejected (not retried)",
            extra={
                "reason": rejected.reason.value,
                "problems": [p.field for p in rejected.problems],
            },
        )
        return {"started": False, **rejected.as_dict()}
    except AWS_ERRORS as error:
        if not is_transient(error):
            logger.error(
                "automation start failed: DynamoDB refused for good (check the function's role "
                "and TABLE_NAME); the event goes to AutomationsDLQ after Lambda's retries",
                extra={"reason": "storage_failed", "error_code": error_code(error)},
            )
        raise
    # RunStoreUnavailable (and anything unforeseen) raises as it is: Lambda retries the event.
    logger.set_correlation_id(started.run_id)
    if started.created:
        metrics.add_metric(name="AutomationRunsStarted", unit=MetricUnit.Count, value=1)
    logger.info(
        "automation run started" if started.created else "automation run already started",
        extra={
            "run_id": started.run_id,
            "new_run": started.created,
            "requested_by": request.requested_by,
            "to": mask_phone(request.to if isinstance(request.to, str) else None),
        },
    )
    return {"started": True, **started.as_dict()}


def _request(event: dict[str, Any]) -> tuple[StartRequest, StoredTriggers | None]:
    """The request, and for a schedule the trigger file it was read from (the run's version)."""
    if not events.is_scheduled(event):
        return events.request_from_event(event), None
    scheduled = events.scheduled_start(event)
    logger.append_keys(schedule=scheduled.schedule_name)
    stored = _triggers().current(scheduled.account)
    current = _parsed().get(scheduled.account, stored) if stored is not None else None
    return events.request_from_schedule(scheduled, current), stored


def _count_rejection(reason: str) -> None:
    metrics.add_dimension(name="Reason", value=reason)
    metrics.add_metric(name="AutomationStartsRejected", unit=MetricUnit.Count, value=1)
