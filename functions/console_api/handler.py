"""The console API (Cognito JWT-authorised): the web console's read routes
(``sms_automation.composition.console_api``; the routes in ``sms_automation.console.http``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import console_api as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
