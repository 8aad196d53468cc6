"""The stored inbound message: every Twilio parameter verbatim, once; typed fields on read.

Twilio adds parameters without notice, so ``params`` keeps all of them exactly as received.
The item stores each value once (``params``, the kept ``headers``, the keys, the message's
id and the receive time: under 1 KB, one write unit, for a typical form); the typed fields
readers use (``from_number``, ``body``, ``channel``, ``media``, ``thinkautomation_text``...)
are derived from them by ``message_view`` when the item is read, never a replacement. Items
written before (typed copies stored) read the same: what an item stores wins over what is
derived.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sms_automation import keys
from sms_automation.webhooks.request import KEPT_HEADERS, first_values

__all__ = [
    "MESSAGE_SID_PATTERN",
    "THINKAUTOMATION_FIELDS",
    "InboundMessage",
    "channel_of",
    "first_values",
    "kept_headers",
    "media_of",
    "message_view",
    "repeated_values",
    "thinkautomation_text",
]

MESSAGE_SID_PATTERN = re.compile(r"^[A-Za-z0-9]{2,64}$")

# ThinkAutomation's "Twilio SMS Inbound" message text: (label, Twilio parameter or header).
THINKAUTOMATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("FROM", "From"),
    ("BODY", "Body"),
    ("TOCOUNTRY", "ToCountry"),
    ("TOSTATE", "ToState"),
    ("SMSMESSAGESID", "SmsMessageSid"),
    ("SMSSID", "SmsSid"),
    ("SMSSTATUS", "SmsStatus"),
    ("FROMCOUNTRY", "FromCountry"),
    ("TO", "To"),
    ("MESSAGESID", "MessageSid"),
    ("ACCOUNTSID", "AccountSid"),
    ("HTTP_USER_AGENT", "User-Agent"),
    ("HTTP_X_TWILIO_SIGNATURE", "X-Twilio-Signature"),
)


def repeated_values(params: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Names that were sent more than once, with every value in order (kept, never dropped)."""
    seen: dict[str, list[str]] = {}
    for name, value in params:
        seen.setdefault(name, []).append(value)
    return {name: values for name, values in seen.items() if len(values) > 1}


def channel_of(address: str, num_media: int) -> str:
    """``whatsapp:+1...`` -> whatsapp (likewise messenger:, rcs:); otherwise mms or sms."""
    prefix, sep, _ = address.partition(":")
    if sep and prefix.isalpha():
        return prefix.lower()
    return "mms" if num_media > 0 else "sms"


def _int(value: str | None) -> int:
    try:
        return int(value or "0")
    except ValueError:
        return 0


def media_of(params: Mapping[str, str]) -> list[dict[str, str]]:
    """``MediaUrl{N}`` / ``MediaContentType{N}`` pairs, for N up to ``NumMedia`` (and beyond)."""
    media = []
    index = 0
    declared = _int(params.get("NumMedia"))
    while index < declared or f"MediaUrl{index}" in params:
        url = params.get(f"MediaUrl{index}")
        if url is None:
            break
        media.append({"url": url, "content_type": params.get(f"MediaContentType{index}", "")})
        index += 1
    return media


def _geography(params: Mapping[str, str], side: str) -> dict[str, str]:
    return {
        part.lower(): params.get(f"{side}{part}", "")
        for part in ("City", "State", "Zip", "Country")
    }


def thinkautomation_text(params: Mapping[str, str], headers: Mapping[str, str]) -> str:
    """ThinkAutomation's message format: ``FROM: ...`` one line a field, in its order."""
    lines = []
    for label, source in THINKAUTOMATION_FIELDS:
        value = headers.get(source, params.get(source, ""))
        lines.append(f"{label}: {value}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A verified inbound message, ready to be stored once."""

    account: str
    received_at: str  # ISO-8601 UTC, millisecond precision
    params: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]  # Twilio's header names (KEPT_HEADERS) that were present

    @property
    def fields(self) -> dict[str, str]:
        return first_values(self.params)

    @property
    def message_sid(self) -> str:
        return self.fields.get("MessageSid", "")

    @property
    def channel(self) -> str:
        fields = self.fields
        return channel_of(fields.get("From", ""), _int(fields.get("NumMedia")))

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item (plain Python values; the store serialises them): each value
        once. Readers see it through ``message_view``."""
        fields = self.fields  # computed once: it walks every parameter
        message_sid = fields.get("MessageSid", "")
        item: dict[str, Any] = {
            **keys.message_key(message_sid),
            keys.GSI1_PK: keys.account_messages_index_pk(self.account),
            keys.GSI1_SK: f"{self.received_at}#{message_sid}",
            "kind": keys.KIND_INBOUND_MESSAGE,
            "account": self.account,
            "message_sid": message_sid,  # the id raw stream images and DLQ tools read
            "received_at": self.received_at,
            "params": fields,
            "headers": dict(self.headers),
        }
        if len(fields) < len(self.params):  # a name sent twice: keep every value
            item["repeated_params"] = repeated_values(self.params)
        return item


def _typed_fields(params: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, Any]:
    num_media = _int(params.get("NumMedia"))
    sender = params.get("From", "")
    typed: dict[str, Any] = {
        "message_sid": params.get("MessageSid", ""),
        "account_sid": params.get("AccountSid", ""),
        "from_number": sender,
        "to_number": params.get("To", ""),
        "body": params.get("Body", ""),
        "channel": channel_of(sender, num_media),
        "num_media": num_media,
        "media": media_of(params),
        "num_segments": _int(params.get("NumSegments")),
        "from_geo": _geography(params, "From"),
        "to_geo": _geography(params, "To"),
        "thinkautomation_text": thinkautomation_text(params, headers),
    }
    optional = {
        "opt_out_type": params.get("OptOutType"),
        "messaging_service_sid": params.get("MessagingServiceSid"),
        "profile_name": params.get("ProfileName"),
        "wa_id": params.get("WaId"),
    }
    typed.update({name: value for name, value in optional.items() if value})
    return typed


def message_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """A stored inbound message as its readers see it: the item plus the typed fields derived
    from its ``params`` and ``headers``. What the item stores wins (items written with typed
    copies read as they were); other kinds (automation runs) come back as they are."""
    if item.get("kind") != keys.KIND_INBOUND_MESSAGE:
        return dict(item)
    params = {str(k): str(v) for k, v in (item.get("params") or {}).items()}
    headers = {str(k): str(v) for k, v in (item.get("headers") or {}).items()}
    return {**_typed_fields(params, headers), **item}


def kept_headers(header: Any) -> dict[str, str]:
    """The Twilio headers worth keeping, by their canonical names, when present."""
    present = {}
    for name in KEPT_HEADERS:
        value = header(name)
        if value is not None:
            present[name] = value
    return present
