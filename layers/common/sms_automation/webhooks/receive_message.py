"""Receive one inbound message: verify it came from Twilio, then store it exactly once.

The order matters: nothing is parsed beyond what the signature needs, and nothing is stored,
until the signature holds for the account's current or previous auth token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from sms_automation.accounts import AccountDirectory
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.webhooks.authenticate import authenticate
from sms_automation.webhooks.inbound_message import (
    MESSAGE_SID_PATTERN,
    InboundMessage,
    kept_headers,
)
from sms_automation.webhooks.rejections import MalformedRequest
from sms_automation.webhooks.request import WebhookRequest

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


def receive_inbound(
    request: WebhookRequest,
    directory: AccountDirectory,
    store: MessageStore,
    now: datetime,
) -> Received:
    authenticated = authenticate(request, directory, now)
    account, params = authenticated.account, authenticated.params
    fields = authenticated.fields
    message_sid = fields.get("MessageSid", "")
    if not MESSAGE_SID_PATTERN.fullmatch(message_sid):
        raise MalformedRequest("MessageSid is missing or malformed")

    if not account.receive_enabled:
        return Received("receive_disabled", account.name, message_sid)

    message = InboundMessage(
        account=account.name,
        received_at=utc_timestamp(now),
        params=params,
        headers=kept_headers(request.header),
    )
    item = message.to_item()
    stored = store.put_new(item)
    return Received("stored" if stored else "duplicate", account.name, message_sid, message.channel)
