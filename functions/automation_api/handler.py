"""The automations API (IAM-authorised): start a run, read a run, list an automation's runs
(``sms_automation.composition.automation_api``). No tracer: X-Ray still records the invocation
(``Tracing: Active``) without aws-xray-sdk in the cold start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation.composition import automation_api as composition

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return composition.handle(event, context)
