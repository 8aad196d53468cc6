"""A contact thread's ``since`` cursor: what the page was last answered, so that its next poll
reads and answers only what changed (``reads.ConsoleReads.thread``).

Nothing in the table says "changed since": a delivery status updates the outbound item of an
existing step, a conversation's answer updates the conversation, and none of them is indexed
by contact and time. So the cursor names what can still change, and the poll re-reads only
that:

- ``since``: a time a minute (``WINDOW``) before the last poll. The next poll reads the
  account's message index from there on (a key-range query, newest first): a message written
  late, or not yet in the eventually consistent index at the last poll, is not missed.
- ``messages``: the contact's messages still *open* (``settled`` says when one no longer is:
  its evaluation finished, every send it made in a final delivery status, none of its
  conversations waiting) or inside the window, each with a fingerprint of what the page was
  shown of it (``fingerprint``): the poll re-reads their action logs and answers those whose
  fingerprint changed, and nothing of the others.
- ``replies``: the same for the console's replies, by their sort key in the contact's own
  replies partition (a range read there from the oldest one kept).

A message is a group of entries (itself, what its evaluation sent, its conversations' prompts
and answers), answered whole when any of it changed, so the page can merge by ``key``.

A cursor is base64url JSON, at most ``MAX_CURSOR_CHARS`` and ``MAX_TRACKED`` groups: a thread
with more groups still open answers in full (``full``) until enough have settled. It is
validated, not trusted: its account and contact must be the path's (a user may pass only a
cursor of a thread they may read: another account's is a 403 if they may not see it, else a 400
like another contact's), every message it names is read and must be of that account and that
contact before anything of it is answered (a 400 otherwise: the same answer for a message of
another account, of another contact, or of none), and a reply key only positions a read inside
the path's own partition.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from sms_automation.console.queries import BadRequest
from sms_automation.processing.evaluations import FINISHED_STATUSES

MAX_CURSOR_CHARS: Final = 3072
MAX_TRACKED: Final = 24
"""Message and reply groups one cursor follows; more open at once: the next poll is a full one."""
WINDOW: Final = timedelta(seconds=60)
"""How far back of the last poll the next one reads the index again (late and unindexed writes)."""
FINAL_STATUSES: Final = frozenset(
    {"delivered", "undelivered", "failed", "read", "canceled", "received", "valid", "invalid"}
)
"""Delivery statuses (and answers') no callback changes any more; ``delivered`` is final for
SMS and MMS only (``settled``): a WhatsApp, Messenger or RCS message is ``read`` later."""
READ_RECEIPT_CHANNELS: Final = ("whatsapp:", "messenger:", "rcs:")

_SID: Final = re.compile(r"^[A-Za-z0-9]{2,64}$")
_FINGERPRINT: Final = re.compile(r"^[0-9a-f]{12}$")
_TIME: Final = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{2,20}Z$")
_SORT_KEY: Final = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{2,20}Z#[A-Za-z0-9]{2,64}$")
NOT_OURS: Final = "since is not a cursor this API gave for this thread: load the thread without it"


@dataclass(frozen=True, slots=True)
class ThreadCursor:
    account: str
    contact: str
    since: str
    """The time (``{ISO}Z``) the next poll reads the message index from."""
    messages: Mapping[str, str] = field(default_factory=dict)
    """Message SID -> fingerprint of its group as last answered."""
    replies: Mapping[str, str] = field(default_factory=dict)
    """Reply sort key (``{sent_at}#{reply_id}``) -> fingerprint."""
    full: bool = False
    """Too much open to follow: the next poll answers the whole thread."""

    def encode(self) -> str:
        document = {
            "v": 1,
            "a": self.account,
            "c": self.contact,
            "s": self.since,
            "m": dict(self.messages),
            "r": dict(self.replies),
            "f": int(self.full),
        }
        raw = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(text: str) -> ThreadCursor:
    """The cursor ``text`` encodes, every field checked (``BadRequest`` otherwise)."""
    if len(text) > MAX_CURSOR_CHARS:
        raise BadRequest(f"since is longer than {MAX_CURSOR_CHARS} characters: {NOT_OURS}")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        document = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadRequest(NOT_OURS) from None
    fields = document if isinstance(document, dict) else {}
    account, contact, since = fields.get("a"), fields.get("c"), fields.get("s")
    messages, replies = fields.get("m", {}), fields.get("r", {})
    if not (
        fields.get("v") == 1
        and fields.get("f") in (0, 1)
        and isinstance(account, str)
        and isinstance(contact, str)
        and isinstance(since, str)
        and _TIME.fullmatch(since)
        and _tracked(messages, _SID)
        and _tracked(replies, _SORT_KEY)
        and len(messages) + len(replies) <= MAX_TRACKED
    ):
        raise BadRequest(NOT_OURS)
    return ThreadCursor(account, contact, since, messages, replies, bool(fields["f"]))


def _tracked(value: Any, key: re.Pattern[str]) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and key.fullmatch(k) and isinstance(v, str) and _FINGERPRINT.fullmatch(v)
        for k, v in value.items()
    )


def fingerprint(entries: Iterable[Mapping[str, Any]]) -> str:
    """12 hex digits of what a group's entries show (a change of any field changes it)."""
    text = json.dumps(list(entries), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def settled(
    contact: str,
    entries: Iterable[Mapping[str, Any]],
    evaluation: Mapping[str, Any] | None = None,
    conversations: Iterable[Mapping[str, Any]] = (),
    *,
    evaluated: bool = True,
) -> bool:
    """Whether nothing of a group can change any more: its evaluation finished (``evaluated``:
    a message has one, a console reply has none), every entry in a final status and none of
    its conversations waiting."""
    if evaluated and (evaluation or {}).get("status") not in FINISHED_STATUSES:
        return False
    if any(c.get("status") == "waiting" for c in conversations):
        return False
    final = FINAL_STATUSES
    if contact.startswith(READ_RECEIPT_CHANNELS):
        final = final - {"delivered"}
    return all(
        e.get("status") in final or (e.get("direction") == "inbound" and e.get("kind") == "message")
        for e in entries
    )
