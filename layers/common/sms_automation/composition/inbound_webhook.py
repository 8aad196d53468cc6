"""The inbound webhook, ``POST /twilio/{account}/sms``: Twilio's Messaging webhook.

Verify ``X-Twilio-Signature``, store the message exactly once, answer empty TwiML
(``webhooks.receive_message``, served by ``webhooks.route``). This module builds the clients, the
account directory and the message store (once per warm Lambda, on first use) and says what each
outcome logs and counts: one line per request.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sms_automation.adapters.account_store import CachedAccountDirectory
from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.edge import aws
from sms_automation.edge.log_lines import Count, LambdaContextLike, LogLine, LogLines
from sms_automation.edge.settings import WebhookSettings
from sms_automation.pii import mask_phone
from sms_automation.webhooks.receive_message import Received, receive_inbound
from sms_automation.webhooks.request import WebhookRequest
from sms_automation.webhooks.route import TwilioRoute, correlation_id

log_lines = LogLines.from_environ(os.environ, "inbound-webhook")

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
    cold start), botocore's own in every respect (parameter validation on)."""
    return aws.client("dynamodb", aws.ANSWERING)


@cache
def _directory() -> CachedAccountDirectory:
    return CachedAccountDirectory.from_clients(
        _settings().table_name, _dynamodb(), aws.client("secretsmanager", aws.ANSWERING)
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


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    return _route.serve(event, context, _settings, _receive, _outcome)


def _receive(request: WebhookRequest) -> Received:
    return receive_inbound(request, _directory(), _store(), datetime.now(UTC))


def _outcome(received: Received, request: WebhookRequest) -> LogLine:
    fields = request.fields
    return LogLine(
        level="INFO",
        message=f"inbound message {received.outcome}",
        fields={
            "account": request.account_name,
            "outcome": received.outcome,
            # The SID is the line's correlation_id already (a form's): not written twice.
            "message_sid": (
                None if received.message_sid == correlation_id(request) else received.message_sid
            ),
            "channel": received.channel,
            "from": mask_phone(fields.get("From")),
            "to": mask_phone(fields.get("To")),
        },
        counts=(Count(name=_OUTCOME_METRICS[received.outcome]),),
    )
