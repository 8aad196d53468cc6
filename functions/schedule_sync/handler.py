"""DynamoDB stream (an account's trigger pointer or account item changed) → its EventBridge
Scheduler schedules.

INSERT/MODIFY of a pointer (a push or a rollback), or MODIFY of the account item (its time zone,
the zone of every schedule that names none, may have changed): the account's schedules become
what its *current* trigger file and account say (read again, so a late or repeated record still
converges); REMOVE of the pointer: they are deleted. Records go through ``BatchProcessor`` (a
failed record is retried, bisected, then described in AutomationsDLQ). The logic is in
``sms_automation.automations.schedules``; this module wires clients, logs and metrics.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.scheduler import EventBridgeSchedules, SchedulerTarget
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.automations.schedules import desired_schedules, plan_sync
from sms_automation.keys import PK
from sms_automation.triggers.model import TriggerSet
from sms_automation.triggers.versions import PerVersion, parsed_trigger_files

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "schedule-sync"
logger = Logger(service=_SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SmsAutomation", service=_SERVICE
)
batch = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
_ACCOUNT_PREFIX = "ACCOUNT#"


@cache
def _target() -> SchedulerTarget:
    return SchedulerTarget(
        group=os.environ["SCHEDULE_GROUP_NAME"],
        function_arn=os.environ["AUTOMATION_EVENTS_FUNCTION_ARN"],
        role_arn=os.environ["SCHEDULER_ROLE_ARN"],
    )


@cache
def _schedules() -> EventBridgeSchedules:
    return EventBridgeSchedules(boto3.client("scheduler"), _target())


@cache
def _triggers() -> DynamoTriggerStore:
    return DynamoTriggerStore(os.environ["TABLE_NAME"], boto3.client("dynamodb"))


@cache
def _accounts() -> DynamoAccountStore:
    return DynamoAccountStore(os.environ["TABLE_NAME"], boto3.client("dynamodb"))


@cache
def _parsed() -> PerVersion[TriggerSet]:
    return parsed_trigger_files()


def record_handler(record: DynamoDBRecord) -> None:
    keys = record.dynamodb.keys if record.dynamodb else None
    partition = str((keys or {}).get(PK, ""))
    if not partition.startswith(_ACCOUNT_PREFIX):
        raise ValueError(f"stream record {record.event_id} is not an account's trigger pointer")
    account = partition.removeprefix(_ACCOUNT_PREFIX)
    logger.append_keys(account=account)
    current, zone = None, None
    if record.event_name is not DynamoDBRecordEventName.REMOVE:
        stored = _triggers().current(account)
        current = _parsed().get(account, stored) if stored is not None else None
        found = _accounts().get(account) if current is not None else None
        zone = found.timezone if found is not None else None
    desired = desired_schedules(account, current, zone)
    plan = plan_sync(desired, _schedules().existing(account), _target().function_arn)
    _schedules().apply(plan)
    metrics.add_metric(name="SchedulesChanged", unit=MetricUnit.Count, value=plan.changes)
    logger.info(
        "schedules synced",
        extra={"event": str(record.event_name), "desired": len(desired), **plan.summary()},
    )


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=batch, context=context
    )
