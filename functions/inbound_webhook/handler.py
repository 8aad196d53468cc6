"""``POST /twilio/{account}/sms``: Twilio's Messaging webhook (``sms_automation.composition.
inbound_webhook``). No tracer on purpose: X-Ray still records the invocation (``Tracing:
Active``) and the webhook's cold start stays free of aws-xray-sdk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import inbound_webhook as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
