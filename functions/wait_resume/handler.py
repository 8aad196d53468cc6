"""Wait-for-reply state machine, last task: the wait is over; replay the message past it
(``sms_automation.composition.wait_resume``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import wait_resume as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
