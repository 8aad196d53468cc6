"""Conversation state machine, last task: the conversation is over; replay the message past it
(``sms_automation.composition.conversation_resume``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import conversation_resume as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
