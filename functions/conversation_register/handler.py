"""Conversation state machine, token task: keep the token, open the conversation, send the
prompt (``sms_automation.composition.conversation_register``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import conversation_register as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
