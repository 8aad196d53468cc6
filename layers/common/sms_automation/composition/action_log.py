"""``action_log.ActionLog`` on the app table: the evaluation, the step ledger, the outbound
records and the conversations of a message or automation run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.action_log import ActionLog
from sms_automation.adapters.conversation_store import DynamoConversationStore
from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.adapters.step_ledger import DynamoStepLedger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def dynamo_action_log(table_name: str, client: DynamoDBClient) -> ActionLog:
    return ActionLog(
        evaluations=DynamoEvaluationStore(table_name, client),
        steps=DynamoStepLedger(table_name, client),
        deliveries=DynamoOutboundStore(table_name, client),
        conversations=DynamoConversationStore(table_name, client),
    )


def action_log(table_name: str, client: DynamoDBClient, message_sid: str) -> dict[str, Any]:
    """``ActionLog.of``: the run and its steps, each with the delivery of what it created."""
    return dynamo_action_log(table_name, client).of(message_sid)


def conversation_history(
    table_name: str, client: DynamoDBClient, message_sid: str
) -> list[dict[str, Any]]:
    """``ActionLog.conversations``: the conversations a message or run started, oldest first."""
    return dynamo_action_log(table_name, client).conversations(message_sid)
