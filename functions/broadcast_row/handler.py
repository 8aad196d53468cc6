"""One row of a broadcast: its automation run, started once (the Distributed Map's child task,
``sms_automation.composition.broadcasts``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import broadcast_row as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
