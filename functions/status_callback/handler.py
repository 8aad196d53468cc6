"""``POST /twilio/{account}/status``: Twilio's delivery status callbacks for what we sent
(``sms_automation.composition.status_callback``). No tracer either: cold starts stay small."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import status_callback as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
