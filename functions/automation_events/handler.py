"""EventBridge → a started automation run: an ``SMS automation start`` event on a bus, or an
EventBridge Scheduler schedule (``sms_automation.composition.automation_events``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import automation_events as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
