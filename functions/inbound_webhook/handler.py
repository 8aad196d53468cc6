"""``POST /twilio/{account}/sms``: Twilio's Messaging webhook.

Verify ``X-Twilio-Signature``, store the message exactly once, answer empty TwiML. Everything
else lives in ``sms_automation.inbound``; this module wires AWS clients and says what each
outcome logs and counts (one line per request, written by ``inbound.route``).
The tracer is left out on purpose: X-Ray still records the invocation (``Tracing: Active``)
and the webhook's cold start stays free of aws-xray-sdk.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from sms_automation.adapters.account_store import CachedAccountDirectory
from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.adapters.prebuilt_items import send_prebuilt_items
from sms_automation.inbound.receive import Received, receive_inbound
from sms_automation.inbound.request import WebhookRequest
from sms_automation.inbound.route import TwilioRoute
from sms_automation.inbound.settings import WebhookSettings
from sms_automation.log_lines import Count, LogLine, LogLines
from sms_automation.pii import mask_phone

if TYPE_CHECKING:
    # The type only: importing Powertools costs a cold start ~35 ms (make bench).
    from aws_lambda_powertools.utilities.typing import LambdaContext

log_lines = LogLines.from_environ(os.environ, "inbound-webhook")

# Twilio waits 15 s for an answer: fail fast enough for one retry inside that budget.
_AWS_CONFIG = Config(
    connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3}
)

_UNVALIDATED = Config(parameter_validation=False)

_OUTCOME_METRICS = {
    "stored": "MessagesReceived",
    "duplicate": "MessagesDuplicate",
    "receive_disabled": "MessagesIgnored",
}


@cache
def _settings() -> WebhookSettings:
    return WebhookSettings.from_environ(os.environ)


@cache
def _dynamodb() -> Any:
    """One client for the account lookup and the message store (one client less to create on a
    cold start). Our code builds every request (the message item through our serializer, which
    only emits well-formed AttributeValues) and DynamoDB validates each one anyway: botocore's
    client-side check of the message item would double a warm request's cost (``make bench``).
    An invalid request still fails, as a ``ValidationException`` from DynamoDB instead of a
    ``ParamValidationError``: 503 (store) or 500 (lookup) either way."""
    client = boto3.client("dynamodb", config=_AWS_CONFIG.merge(_UNVALIDATED))
    send_prebuilt_items(client)  # the message item goes out as the JSON we built (make bench)
    return client


@cache
def _directory() -> CachedAccountDirectory:
    return CachedAccountDirectory.from_clients(
        _settings().table_name,
        _dynamodb(),
        boto3.client("secretsmanager", config=_AWS_CONFIG),
    )


@cache
def _store() -> DynamoMessageStore:
    return DynamoMessageStore(_settings().table_name, _dynamodb())


_route: TwilioRoute[Received] = TwilioRoute(
    name="inbound webhook",
    rejected_metric="MessagesRejected",
    not_done="the message was not stored; try again",
    lines=log_lines,
)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _route.serve(
        event,
        context,
        _settings,
        lambda request: receive_inbound(request, _directory(), _store(), datetime.now(UTC)),
        _outcome,
    )


def _outcome(received: Received, request: WebhookRequest) -> LogLine:
    fields = request.fields
    return LogLine(
        level="INFO",
        message=f"inbound message {received.outcome}",
        fields={
            "account": request.account_name,
            "outcome": received.outcome,
            "message_sid": received.message_sid,
            "channel": received.channel,
            "from": mask_phone(fields.get("From")),
            "to": mask_phone(fields.get("To")),
        },
        counts=(Count(name=_OUTCOME_METRICS[received.outcome]),),
    )
