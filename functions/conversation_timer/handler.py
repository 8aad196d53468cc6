"""Conversation state machine, timer branch: reminders that are due, then the deadline
(``sms_automation.composition.conversation_timer``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import conversation_timer as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
