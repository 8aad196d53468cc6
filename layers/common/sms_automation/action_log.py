"""The action log of an inbound message or automation run: how it ran, step by step, what
became of each message or call it created, and its conversations. Read-only; shown by
``sms-automation messages show``, ``sms-automation run --follow`` and the automations API."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sms_automation.adapters.conversation_store import DynamoConversationStore
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.conversations.model import Conversation
from sms_automation.processing.ledger import DynamoStepLedger
from sms_automation.processing.runs import DynamoRunStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def action_log(table_name: str, client: DynamoDBClient, message_sid: str) -> dict[str, Any]:
    """``{"run": ... | None, "steps": [...]}``; a step that created a message or call carries
    its delivery (current status and status history from Twilio's callbacks)."""
    run = DynamoRunStore(table_name, client).get(message_sid)
    outbound = DynamoOutboundStore(table_name, client)
    steps = []
    for entry in DynamoStepLedger(table_name, client).entries(message_sid):
        step: dict[str, Any] = asdict(entry)
        step["state"] = entry.state.value
        if entry.resource_sid:
            record = outbound.get(entry.resource_sid)
            if record is not None:
                step["delivery"] = {
                    "status": record.status,
                    "error_code": record.error_code,
                    "history": [
                        {
                            "status": e.status,
                            "received_at": e.received_at,
                            "error_code": e.error_code,
                        }
                        for e in record.history
                    ],
                }
        steps.append(step)
    return {"run": asdict(run) if run else None, "steps": steps}


def describe_conversation(conversation: Conversation) -> dict[str, Any]:
    """One conversation's history, for people and scripts."""
    return {
        "id": conversation.id,
        "status": conversation.status,
        "contact": conversation.contact,
        "our_number": conversation.our_number,
        "started_at": conversation.started_at,
        "deadline": conversation.deadline,
        "prompt": conversation.prompt,
        "replies": [asdict(reply) for reply in conversation.replies],
        "outcome": dict(conversation.outcome),
        "resolved_at": conversation.resolved_at,
        "execution_arn": conversation.execution_arn,
    }


def conversation_history(
    table_name: str, client: DynamoDBClient, message_sid: str
) -> list[dict[str, Any]]:
    """The conversations a message or run started, oldest first."""
    store = DynamoConversationStore(table_name, client)
    return [describe_conversation(c) for c in store.for_message(message_sid)]
