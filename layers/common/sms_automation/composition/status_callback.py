"""The status callback, ``POST /twilio/{account}/status``: Twilio's delivery status callbacks
for what we sent.

Verify ``X-Twilio-Signature`` exactly as the Messaging webhook does, record the status once
(``webhooks.receive_status.receive_status_callback``), end the conversation of a failed prompt
(``webhooks.receive_status.end_conversation_of_failed_prompt``), slow the sender of a message
that overflowed its queue at Twilio (30001, ``webhooks.receive_status.overflowed_sender``), answer
empty TwiML. This module
builds the clients and stores (once per warm Lambda, on first use) and says what each outcome logs
and counts: one line per request. A 5xx makes Twilio retry the callback; recording it again is safe.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sms_automation.adapters.account_store import CachedAccountDirectory
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.edge import aws
from sms_automation.edge.log_lines import Count, LambdaContextLike, LogLine, LogLines
from sms_automation.edge.settings import WebhookSettings
from sms_automation.webhooks.receive_status import (
    StatusReceived,
    end_conversation_of_failed_prompt,
    overflowed_sender,
    receive_status_callback,
)
from sms_automation.webhooks.request import WebhookRequest
from sms_automation.webhooks.route import TwilioRoute

if TYPE_CHECKING:
    from sms_automation.conversations.service import Conversations

log_lines = LogLines.from_environ(os.environ, "status-callback")

_OUTCOME_METRICS = {
    "recorded": "StatusCallbacksReceived",
    "duplicate": "StatusCallbacksDuplicate",
    "other_account": "StatusCallbacksOtherAccount",
}


@cache
def _settings() -> WebhookSettings:
    return WebhookSettings.from_environ(os.environ)


@cache
def _dynamodb() -> Any:
    """One DynamoDB client for everything here: a client less to create on a cold start."""
    return aws.client("dynamodb", aws.ANSWERING)


@cache
def _directory() -> CachedAccountDirectory:
    return CachedAccountDirectory.from_clients(
        _settings().table_name, _dynamodb(), aws.client("secretsmanager", aws.ANSWERING)
    )


@cache
def _store() -> DynamoOutboundStore:
    return DynamoOutboundStore(_settings().table_name, _dynamodb())


@cache
def _conversations() -> Conversations | None:
    """Ends a conversation whose prompt failed; None without a conversation state machine."""
    arn = os.environ.get("CONVERSATION_STATE_MACHINE_ARN", "")
    if not arn:
        return None
    # Imported on the first failed prompt only: conversations pull in the trigger engine and
    # pydantic, about 0.2 s of a cold start every delivered/sent callback would pay (make bench).
    from sms_automation.adapters.conversation_store import DynamoConversationStore
    from sms_automation.adapters.conversation_workflow import StepFunctionsConversationWorkflow
    from sms_automation.conversations.service import Conversations

    def no_sending(message_sid: str, account: str) -> Any:
        raise RuntimeError("the status callback sends nothing")

    return Conversations(
        store=DynamoConversationStore(_settings().table_name, _dynamodb()),
        workflow=StepFunctionsConversationWorkflow(arn, aws.client("stepfunctions", aws.ANSWERING)),
        port_for=no_sending,
        clock=lambda: datetime.now(UTC),
    )


def _slow_overflowed_sender(received: StatusReceived) -> bool:
    """A 30001 slows its sender as a 429 does (``processing.pacing``): True when this callback
    slowed it. Best effort: the status is recorded whether or not the bucket can be written."""
    sender = overflowed_sender(received, _store())
    if sender is None:
        return False
    # Imported on a queue overflow only: every other callback's cold start skips pacing.
    from sms_automation.adapters.pace_store import DynamoPaceStore
    from sms_automation.processing.pacing import Pacer, PacingUnavailable, Sender

    store = DynamoPaceStore(_settings().table_name, _dynamodb())
    pacer = Pacer(store, lambda account: {}, lambda: datetime.now(UTC), lambda seconds: None)
    try:
        return pacer.slow_down(Sender(received.account, sender))
    except PacingUnavailable:
        return False


@dataclass(frozen=True, slots=True)
class _Handled:
    received: StatusReceived
    conversation_ended: bool
    sender_slowed: bool


_route: TwilioRoute[_Handled] = TwilioRoute(
    name="status callback",
    rejected_metric="StatusCallbacksRejected",
    not_done="the status was not recorded; try again",
    lines=log_lines,
)


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    return _route.serve(event, context, _settings, _receive, _outcome)


def _receive(request: WebhookRequest) -> _Handled:
    received = receive_status_callback(request, _directory(), _store(), datetime.now(UTC))
    ended = end_conversation_of_failed_prompt(received, _store(), _conversations)
    return _Handled(received, ended, _slow_overflowed_sender(received))


def _message(received: StatusReceived) -> str:
    if received.outcome == "other_account":  # answered as an unknown Sid, logged apart
        return "status callback for a Sid of another account: nothing recorded"
    if received.recorded.known_sid:
        return f"status callback {received.outcome}"
    return "status callback for a Sid we have no record of"


def _outcome(handled: _Handled, request: WebhookRequest) -> LogLine:
    received = handled.received
    callback = received.callback
    recorded, known = received.outcome == "recorded", received.recorded.known_sid
    counts = [Count(name=_OUTCOME_METRICS[received.outcome])]
    if recorded and callback.failed:
        counts.append(
            Count(name="OutboundFailed", dimensions={"ErrorCode": callback.error_code or "none"})
        )
    if recorded and not known:
        counts.append(Count(name="StatusCallbacksUnknownSid"))
    return LogLine(
        level="INFO" if known else "WARNING",
        message=_message(received),
        fields={
            "account": request.account_name,
            "outcome": received.outcome,
            "kind": callback.kind,
            "sid": callback.sid,
            "status": callback.status,
            "error_code": callback.error_code,
            "known_sid": known,
            "current": received.recorded.current,
            "conversation_ended": handled.conversation_ended or None,
            "sender_slowed": handled.sender_slowed or None,
        },
        counts=tuple(counts),
    )
