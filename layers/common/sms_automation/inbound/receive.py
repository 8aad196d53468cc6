"""Receive one inbound message: verify it came from Twilio, then store it exactly once.

The order matters: nothing is parsed beyond what the signature needs, and nothing is stored,
until the signature holds for the account's current or previous auth token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from sms_automation.accounts import AccountDirectory
from sms_automation.inbound.message import (
    MESSAGE_SID_PATTERN,
    InboundMessage,
    first_values,
    kept_headers,
)
from sms_automation.inbound.rejections import (
    AccountSidMismatch,
    InvalidSignature,
    MalformedRequest,
    UnknownAccount,
)
from sms_automation.inbound.request import FORM, WebhookRequest, json_params
from sms_automation.signature import verify_form, verify_json

Outcome = Literal["stored", "duplicate", "receive_disabled"]


class MessageStore(Protocol):
    def put_new(self, item: dict[str, Any]) -> bool:
        """Store the item unless its key exists: True when stored, False for a redelivery.

        Raises ``StorageUnavailable`` when the write could not be made durable.
        """
        ...


@dataclass(frozen=True, slots=True)
class Received:
    outcome: Outcome
    account: str
    message_sid: str
    channel: str = ""


def timestamp(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def receive_inbound(
    request: WebhookRequest,
    directory: AccountDirectory,
    store: MessageStore,
    now: datetime,
) -> Received:
    account = directory.find(request.account_name)
    if account is None:
        raise UnknownAccount(f"no account named {request.account_name!r}")

    tokens = directory.auth_tokens(account).accepted
    if request.media_type == FORM:
        check = verify_form(request.url, request.params, request.signature, tokens)
        params = request.params
    else:
        check = verify_json(request.url, request.body, request.signature, tokens)
        params = json_params(request.body) if check.valid else ()
    if not check.valid:
        raise InvalidSignature(f"X-Twilio-Signature is not valid: {check.reason}")

    if any(not name for name, _ in params):
        raise MalformedRequest("a parameter has an empty name")
    fields = first_values(params)
    if fields.get("AccountSid") != account.account_sid:
        raise AccountSidMismatch("AccountSid does not match this account's Twilio Account SID")
    message_sid = fields.get("MessageSid", "")
    if not MESSAGE_SID_PATTERN.fullmatch(message_sid):
        raise MalformedRequest("MessageSid is missing or malformed")

    if not account.receive_enabled:
        return Received("receive_disabled", account.name, message_sid)

    message = InboundMessage(
        account=account.name,
        received_at=timestamp(now),
        params=params,
        headers=kept_headers(request.header),
    )
    item = message.to_item()
    stored = store.put_new(item)
    return Received("stored" if stored else "duplicate", account.name, message_sid, item["channel"])
