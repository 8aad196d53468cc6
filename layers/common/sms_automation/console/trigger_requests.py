"""The Triggers routes' request bodies, read as hostile: the size is checked before the JSON is
parsed (``TooLarge``, 413), then every field's type and length (``BadRequest``, 400, naming the
field). A typed message is ``{from, to, body, channel}``: ``channel`` ``sms`` (the default) or
one of Twilio's channel prefixes (``whatsapp``...), added to both numbers as Twilio sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sms_automation.console import queries
from sms_automation.console.json_body import json_object_body
from sms_automation.console.queries import BadRequest
from sms_automation.console.trigger_files import DryRunRequest, TooLarge, TypedMessage
from sms_automation.triggers.versions import MAX_SOURCE_BYTES

MAX_BODY_BYTES: Final = 2 * MAX_SOURCE_BYTES
"""A request carries one trigger file (JSON escapes can double its size) and a few fields."""
MAX_MESSAGE_BODY: Final = 1_600
"""Characters of a typed message or reply (Twilio's longest SMS body)."""
MAX_REPLIES: Final = 10
PREFIXED_CHANNELS: Final = frozenset({"whatsapp", "messenger", "rcs"})
MAX_VERSION: Final = 10**9


def json_body(event: Mapping[str, Any]) -> dict[str, Any]:
    """A trigger route's body (``json_body.json_object_body``): too large is a 413."""
    return json_object_body(event, MAX_BODY_BYTES, too_large=TooLarge)


def text_of(body: Mapping[str, Any], name: str = "text") -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be the trigger file's text")
    return value


def version_of(body: Mapping[str, Any], name: str) -> int:
    """A version number (0: nothing pushed yet)."""
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_VERSION:
        raise BadRequest(f"{name} must be a version number (0 when nothing was pushed yet)")
    return value


def version_in_path(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 0 < int(value[:10]) <= MAX_VERSION:
        raise BadRequest("the version must be a number from 1")
    return int(value)


def dry_run_request(body: Mapping[str, Any]) -> DryRunRequest:
    """``{text?, message: {sid} | {from, to, body, channel?}, replies?}``; without ``text``
    the live version is tested."""
    queries.only(body, {"text", "message", "replies"}, "field")
    text = None if body.get("text") is None else text_of(body)
    message = body.get("message")
    if not isinstance(message, Mapping):
        raise BadRequest("message must be {sid} or {from, to, body, channel}")
    replies = replies_of(body.get("replies"))
    if "sid" in message:
        queries.only(message, {"sid"}, "field")
        sid = message.get("sid")
        if not isinstance(sid, str):
            raise BadRequest("message.sid must be a message SID")
        return DryRunRequest(text, queries.message_sid(sid), None, replies)
    queries.only(message, {"from", "to", "body", "channel"}, "field")
    return DryRunRequest(text, None, typed_message(message), replies)


def typed_message(message: Mapping[str, Any]) -> TypedMessage:
    channel = message.get("channel") or "sms"
    if not isinstance(channel, str) or channel.lower() not in queries.CHANNELS:
        raise BadRequest(f"message.channel must be one of {', '.join(sorted(queries.CHANNELS))}")
    sender = queries.address(message.get("from"), "message.from")
    receiver = queries.address(message.get("to"), "message.to")
    if sender is None or receiver is None:
        raise BadRequest("message.from and message.to are needed (phone numbers)")
    body = message.get("body", "")
    if not isinstance(body, str) or len(body) > MAX_MESSAGE_BODY:
        raise BadRequest(f"message.body must be a text of at most {MAX_MESSAGE_BODY} characters")
    prefix = channel.lower()
    if prefix in PREFIXED_CHANNELS:
        sender, receiver = (_prefixed(prefix, number) for number in (sender, receiver))
    return TypedMessage(sender, receiver, body)


def _prefixed(channel: str, number: str) -> str:
    return number if ":" in number else f"{channel}:{number}"


def replies_of(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_REPLIES:
        raise BadRequest(f"replies must be a list of at most {MAX_REPLIES} texts")
    if not all(isinstance(reply, str) and len(reply) <= MAX_MESSAGE_BODY for reply in value):
        raise BadRequest(f"each reply is a text of at most {MAX_MESSAGE_BODY} characters")
    return tuple(value)
