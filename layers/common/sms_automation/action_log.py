"""The action log of an inbound message or automation run: how it ran, step by step, what
became of each message or call it created, and its conversations. Read-only; shown by
``sms-automation messages show``, ``sms-automation run --follow`` and the automations API.

It reads four records through ports (``typing.Protocol``): the evaluation, its step ledger, the
deliveries of what it created and its conversations; ``composition.action_log`` builds it on
the app table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sms_automation.conversations.model import Conversation
    from sms_automation.processing.evaluations import EvaluationRecord
    from sms_automation.processing.ledger import StepEntry


class EvaluationRecords(Protocol):
    def get(self, message_sid: str) -> EvaluationRecord | None: ...


class StepRecords(Protocol):
    def entries(self, message_sid: str) -> list[StepEntry]: ...


class DeliveryEvent(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def received_at(self) -> str: ...
    @property
    def error_code(self) -> str | None: ...


class Delivery(Protocol):
    """A message or call a step created, as Twilio's status callbacks left it."""

    @property
    def status(self) -> str | None: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def history(self) -> Sequence[DeliveryEvent]: ...


class Deliveries(Protocol):
    def get(self, sid: str) -> Delivery | None: ...


class ConversationRecords(Protocol):
    def for_message(self, message_sid: str) -> list[Conversation]: ...


class ActionLog:
    def __init__(
        self,
        *,
        evaluations: EvaluationRecords,
        steps: StepRecords,
        deliveries: Deliveries,
        conversations: ConversationRecords,
    ) -> None:
        self._evaluations = evaluations
        self._steps = steps
        self._deliveries = deliveries
        self._conversations = conversations

    def of(self, message_sid: str) -> dict[str, Any]:
        """``{"evaluation": ... | None, "steps": [...]}``; a step that created a message or call
        carries its delivery (current status and status history from Twilio's callbacks)."""
        evaluation = self._evaluations.get(message_sid)
        steps = []
        for entry in self._steps.entries(message_sid):
            step: dict[str, Any] = asdict(entry)
            step["state"] = entry.state.value
            if entry.resource_sid:
                delivery = self._deliveries.get(entry.resource_sid)
                if delivery is not None:
                    step["delivery"] = describe_delivery(delivery)
            steps.append(step)
        return {"evaluation": asdict(evaluation) if evaluation else None, "steps": steps}

    def conversations(self, message_sid: str) -> list[dict[str, Any]]:
        """The conversations a message or run started, oldest first."""
        return [describe_conversation(c) for c in self._conversations.for_message(message_sid)]


def describe_delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "status": delivery.status,
        "error_code": delivery.error_code,
        "history": [
            {"status": e.status, "received_at": e.received_at, "error_code": e.error_code}
            for e in delivery.history
        ],
    }


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
