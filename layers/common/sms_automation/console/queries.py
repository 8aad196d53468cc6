"""The console's query parameters, each bounded and checked (``BadRequest``, a 400 naming it),
and its opaque cursors.

A cursor is base64url of ``{"a": account, "k": index sort key}``: where the last page stopped
in that account's listing (its messages, or its audit record: both sort as
``{timestamp}#{id}``). It carries no table key of its own: the reader builds the
start key from the path's account and ``k`` (which must look like ``{timestamp}#{sid}``), so a
cursor can never start a read in another account's partition; one naming another account is
refused (403 if the caller may not see it, else 400).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

DEFAULT_LIMIT: Final = 25
MAX_LIMIT: Final = 100
MAX_CURSOR_CHARS: Final = 512
MAX_TEXT_CHARS: Final = 100
CHANNELS: Final = frozenset({"sms", "mms", "whatsapp", "messenger", "rcs"})
QUERY_NAMES: Final = frozenset(
    {"contact", "number", "text", "since", "until", "channel", "cursor", "limit"}
)

_ADDRESS: Final = re.compile(r"^(?:[a-z]{2,16}:)?\+?[0-9A-Za-z]{2,32}$")
_SID: Final = re.compile(r"^[A-Za-z0-9]{2,64}$")
_SORT_KEY: Final = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{2,20}Z#[A-Za-z0-9]{2,64}$")
_DAY_OR_TIME: Final = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?Z)?$"
)
_LIMIT: Final = re.compile(r"^[0-9]{1,3}$")


_NOT_OURS: Final = "cursor is not one this API gave: pass next_cursor back as it came"


class BadRequest(Exception):
    """A parameter out of bounds or malformed: a 400 with this message."""


@dataclass(frozen=True, slots=True)
class Cursor:
    account: str
    after: str
    """The index sort key (``{received_at}#{sid}``) of the last item already scanned."""

    def encode(self) -> str:
        raw = json.dumps({"a": self.account, "k": self.after}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, key: re.Pattern[str] = _SORT_KEY) -> Cursor:
    """The cursor ``text`` encodes; its position must look like the listing's ``key``."""
    if len(text) > MAX_CURSOR_CHARS:
        raise BadRequest("cursor is too long: pass next_cursor back as it came")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        document = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadRequest(_NOT_OURS) from None
    fields = document if isinstance(document, dict) else {}
    account, after = fields.get("a"), fields.get("k")
    if not isinstance(account, str) or not isinstance(after, str) or not key.match(after):
        raise BadRequest(_NOT_OURS)
    return Cursor(account, after)


@dataclass(frozen=True, slots=True)
class MessageQuery:
    contact: str | None = None
    number: str | None = None
    text: str | None = None
    since: str | None = None
    until: str | None = None
    channel: str | None = None
    cursor: Cursor | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def filtered(self) -> bool:
        return any((self.contact, self.number, self.text, self.channel))


def message_query(query: Mapping[str, Any]) -> MessageQuery:
    only(query, QUERY_NAMES)
    text = _text(query, "text", MAX_TEXT_CHARS)
    channel = _text(query, "channel", 16)
    if channel is not None and channel.lower() not in CHANNELS:
        raise BadRequest(f"channel must be one of {', '.join(sorted(CHANNELS))}")
    since, until = _instant(query, "since", low=True), _instant(query, "until", low=False)
    if since and until and since > until:
        raise BadRequest("since must not be after until")
    cursor = _text(query, "cursor", MAX_CURSOR_CHARS)
    return MessageQuery(
        contact=address(query.get("contact"), "contact"),
        number=address(query.get("number"), "number"),
        text=text.casefold() if text else None,
        since=since,
        until=until,
        channel=channel.lower() if channel else None,
        cursor=decode_cursor(cursor) if cursor else None,
        limit=page_limit(query.get("limit")),
    )


@dataclass(frozen=True, slots=True)
class PageQuery:
    """A plain listing's parameters: where to go on (``cursor``) and how many (``limit``)."""

    cursor: Cursor | None = None
    limit: int = DEFAULT_LIMIT


def page_query(query: Mapping[str, Any], key: re.Pattern[str] = _SORT_KEY) -> PageQuery:
    """``cursor`` and ``limit``, nothing else; ``key``: what the listing's positions look like
    (``{timestamp}#{id}`` by default)."""
    only(query, {"cursor", "limit"})
    cursor = _text(query, "cursor", MAX_CURSOR_CHARS)
    return PageQuery(
        cursor=decode_cursor(cursor, key) if cursor else None, limit=page_limit(query.get("limit"))
    )


def address(value: Any, name: str) -> str | None:
    """A phone number or channel address (``+15551234567``, ``whatsapp:+1...``)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _ADDRESS.match(value.strip()):
        raise BadRequest(f"{name} must be a phone number like +15551234567 (or whatsapp:+1...)")
    return value.strip()


def message_sid(value: str) -> str:
    if not _SID.match(value):
        raise BadRequest("the message SID must be 2 to 64 letters and digits")
    return value


def day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest("date must be YYYY-MM-DD") from None


def _text(query: Mapping[str, Any], name: str, max_chars: int) -> str | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > max_chars:
        raise BadRequest(f"{name} must be at most {max_chars} characters")
    return value


def _instant(query: Mapping[str, Any], name: str, *, low: bool) -> str | None:
    """A day or a UTC time as a bound on the index sort keys (``{received_at}#{sid}``): the
    prefix itself from below, the prefix and "~" from above (every key in that day or minute)."""
    value = _text(query, name, 32)
    if value is None:
        return None
    if not _DAY_OR_TIME.match(value):
        raise BadRequest(f"{name} must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z (UTC)")
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        raise BadRequest(f"{name} is not a real date") from None
    prefix = value.removesuffix("Z")  # a prefix of the sort keys it bounds
    return prefix if low else prefix + "~"  # "~" sorts after every character of a sort key


def only(names: Iterable[Any], known: Iterable[str], what: str = "parameter") -> None:
    """Refuse any name not ``known`` (a query's parameters, a body's fields): a 400 naming
    them (each cut to 40 characters) and what is known."""
    allowed = set(known)
    unknown = sorted(str(name)[:40] for name in names if name not in allowed)
    if unknown:
        raise BadRequest(
            f"unknown {what}(s): {', '.join(unknown)}; known: {', '.join(sorted(allowed))}"
        )


def page_limit(value: Any) -> int:
    """A page's ``limit``: 1 to ``MAX_LIMIT`` (none: ``DEFAULT_LIMIT``)."""
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not (isinstance(value, str) and _LIMIT.fullmatch(value) and 1 <= int(value) <= MAX_LIMIT):
        raise BadRequest(f"limit must be a number from 1 to {MAX_LIMIT}")
    return int(value)
