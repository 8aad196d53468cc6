"""DynamoDB stream → each new inbound message through its account's triggers, exactly once;
the retry queue → each deferred one again (``sms_automation.composition.trigger_processor``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import trigger_processor as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
