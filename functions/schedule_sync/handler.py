"""DynamoDB stream (an account's trigger pointer or account item changed) → its EventBridge
Scheduler schedules (``sms_automation.composition.schedule_sync``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import schedule_sync as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
