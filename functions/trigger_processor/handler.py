"""DynamoDB stream → each new inbound message through its account's triggers, exactly once.

Records go through Powertools' ``BatchProcessor``: a record that fails is reported as a batch
item failure (the event source mapping retries it, bisecting the batch, then sends it to the
DLQ) while the records beside it are processed. All the logic is in
``sms_automation.processing``; this module wires clients, logs and metrics.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
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
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from sms_automation.accounts import Account
from sms_automation.adapters.account_store import CachedAccountDirectory
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.adapters.twilio_messaging import TwilioMessaging
from sms_automation.outbound_status import OutboundKind
from sms_automation.processing.effects import Effects, EffectSettings, Messaging
from sms_automation.processing.ledger import DynamoStepLedger
from sms_automation.processing.port import LedgerActionPort
from sms_automation.processing.runner import EngineCache, MessageProcessor, iso
from sms_automation.processing.runs import DynamoRunStore
from sms_automation.processing.settings import ProcessorSettings
from sms_automation.processing.stream import message_from_image

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "trigger-processor"
logger = Logger(service=_SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SmsAutomation", service=_SERVICE
)
# Report every failed record, even when all failed: the event source mapping then retries from
# the first failed record (a raised error would make it bisect and retry the whole batch).
batch = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)

_AWS_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}
)


def _now() -> datetime:
    return datetime.now(UTC)


@cache
def _settings() -> ProcessorSettings:
    return ProcessorSettings.from_environ(os.environ)


@cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb", config=_AWS_CONFIG)


@cache
def _directory() -> CachedAccountDirectory:
    return CachedAccountDirectory.from_clients(
        _settings().table_name, _dynamodb(), boto3.client("secretsmanager", config=_AWS_CONFIG)
    )


@cache
def _processor() -> MessageProcessor:
    table = _settings().table_name
    return MessageProcessor(
        runs=DynamoRunStore(table, _dynamodb()),
        triggers=DynamoTriggerStore(table, _dynamodb()),
        engines=EngineCache(),
        port_for=_port_for,
        clock=_now,
    )


@cache
def _messaging_client(account_sid: str, auth_token: str, api_base_url: str) -> TwilioMessaging:
    """One client (and connection pool) per account and token; a rotated token gets a new one."""
    return TwilioMessaging(account_sid, auth_token, api_base_url=api_base_url)


def _messaging_for(account: Account) -> Messaging:
    tokens = _directory().auth_tokens(account)
    return _messaging_client(account.account_sid, tokens.current, _settings().twilio_api_base_url)


def _port_for(message: Mapping[str, Any]) -> LedgerActionPort:
    settings = _settings()
    sid, account_name = message["message_sid"], message["account"]
    outbound = DynamoOutboundStore(settings.table_name, _dynamodb())

    def messaging() -> Messaging:
        account = _directory().find(account_name)
        if account is None:
            raise LookupError(f"account {account_name!r} no longer exists")
        return _messaging_for(account)

    def record_outbound(
        *, sid: str, kind: OutboundKind, to: str, from_: str, step_id: str, status: str
    ) -> None:
        outbound.record_created(
            sid,
            account=account_name,
            kind=kind,
            to=to,
            from_=from_,
            origin_message_sid=message["message_sid"],
            origin_step_id=step_id,
            status=status,
            created_at=_now(),
        )

    effects = Effects(
        message_sid=sid,
        messaging=messaging,
        dynamodb=_dynamodb(),
        settings=EffectSettings(
            status_callback_url=settings.status_callback_url(account_name),
            records_table=settings.records_table,
            allow_private_networks=settings.allow_private_networks,
        ),
        record_outbound=record_outbound,
        clock=_now,
    )
    return LedgerActionPort(
        sid, DynamoStepLedger(settings.table_name, _dynamodb()), effects, lambda: iso(_now())
    )


def record_handler(record: DynamoDBRecord) -> None:
    message = message_from_image(record)
    logger.set_correlation_id(message["message_sid"])
    logger.append_keys(account=message["account"])
    result = _processor().process(message)
    run = result.run
    metrics.add_metric(name="MessagesProcessed", unit=MetricUnit.Count, value=1)
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
