"""The audit record: who changed what, when, in which account — written by every console action
that changes something, read newest first per account (the console's Audit page).

``AuditLog.record(actor=email, action=..., account=..., target=..., detail={...}, once=...)``
after the change succeeded; ``AuditLog.page(account, after=..., limit=...)`` reads it back. The
store is a port (``AuditStore``); the DynamoDB adapter is ``adapters.audit_log``.

Exactly once: ``once`` is the action's own identity (a run id, a reply id, a conversation id, a
trigger version): the store writes the entry only if no entry of that action and identity is in
the account's record yet (a conditional write: a retry, or two requests at the same moment,
write one entry). So a caller records on its "already done" path too: when the first request's
audit write failed (the user saw a 500), their retry finds the action done and audits it then.
An action with no identity of its own (``once=None``: a takeover, a hand-back, an account
change) is recorded each time it is asked for — each request is an action of its own.

An entry is small and holds no personal data beyond the actor's e-mail: no message body, no
full phone number. Phone numbers anywhere in ``target`` or ``detail`` are masked as the logs
mask them (``pii.mask_phone``: ``+1********23``; a UUID, such as a dead letter's entry id, is
kept whole though a group of it may be all digits); a detail key that would hold a body or a
secret (``body``, ``text``, ``token``, ...) is refused (``ValueError``: a programming error,
caught by the caller's tests). Sizes are bounded: the actor 254 characters, the target 200, the
detail at most 20 keys of 40 characters with values of at most 200 (strings, numbers, booleans,
null, or lists of at most 20 of them); longer strings are cut with ``…``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from sms_automation.console.access import Principal
from sms_automation.console.queries import BadRequest, Cursor, PageQuery
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.pii import mask_phone

ACTIONS: Final = frozenset(
    {
        "trigger.push",
        "trigger.rollback",
        "account.update",
        "conversation.cancel",
        "dead_letter.redrive",
        "automation.start",
        "contact.takeover",
        "contact.handback",
        "contact.reply",
    }
)
UNATTRIBUTED: Final = "*"
"""The record of what belongs to no one account (a dead letter whose messages are unknown): not
an account name (``accounts.ACCOUNT_NAME_PATTERN``), read only by users with every account."""
RETENTION_DAYS: Final = 400
"""Entries expire (the table's TTL) this long after they were written: a year and a month, so
last year's same month can still be compared."""
MAX_ACTOR: Final = 254
MAX_ACCOUNT: Final = 128
MAX_TARGET: Final = 200
MAX_DETAIL_KEYS: Final = 20
MAX_DETAIL_KEY: Final = 40
MAX_DETAIL_VALUE: Final = 200
MAX_DETAIL_LIST: Final = 20
MAX_PAGE: Final = 100
FORBIDDEN_DETAIL_KEYS: Final = frozenset(
    {"body", "text", "prompt", "message", "reply", "token", "auth_token", "password", "secret"}
)
"""What a detail may never carry: a message body, or a secret."""

_PHONE_OR_UUID: Final = re.compile(
    r"(?P<uuid>(?<!\w)[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}(?!\w))"
    r"|(?<![\w+])\+?[0-9]{7,15}(?![\w])"
)
"""A phone number as the project stores them (E.164, or a run of 7 to 15 digits standing alone):
not the digits inside a SID, a time or a version, nor a group of a UUID (a dead letter's entry
id: its first group is all digits about one time in 40), matched whole and kept."""
_CUT: Final = "…"

Scalar = str | int | bool | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: str
    at: str
    """When (``utc_timestamp``: sorts as text)."""
    actor: str
    action: str
    account: str
    target: str
    detail: Mapping[str, Any]

    @property
    def position(self) -> str:
        """Where it sits in its account's record: ``{at}#{id}`` (newest sorts last)."""
        return f"{self.at}#{self.id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "account": self.account,
            "target": self.target,
            "detail": dict(self.detail),
        }


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    """Newest first."""
    end: str | None
    """The last entry's ``position`` when more may follow; None at the end of the record."""


class AuditStore(Protocol):
    def put(self, entry: AuditEntry, *, expires_at: int, once: str | None = None) -> bool:
        """Store a new entry (never overwrites one); with ``once``, only if no entry of the
        same account, action and ``once`` is stored (else False, nothing written)."""
        ...

    def page(self, account: str, *, after: str | None, size: int) -> AuditPage:
        """The account's entries newest first, after the position ``after``."""
        ...


@dataclass(frozen=True, slots=True)
class AuditLog:
    store: AuditStore
    clock: Callable[[], datetime]
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex

    def record(
        self,
        *,
        actor: str,
        action: str,
        account: str,
        target: str,
        detail: Mapping[str, Any] | None = None,
        once: str | None = None,
    ) -> AuditEntry | None:
        """Write who did ``action`` on ``target`` in ``account``; returns the stored entry, or
        None when the action ``once`` names is in the record already."""
        if action not in ACTIONS:
            known = ", ".join(sorted(ACTIONS))
            raise ValueError(f"unknown audit action {action!r}; known: {known}")
        if not account or len(account) > MAX_ACCOUNT:
            raise ValueError("an audit entry names its account (at most 128 characters)")
        now = self.clock()
        entry = AuditEntry(
            id=self.new_id() if once is None else once_id(action, account, once),
            at=utc_timestamp(now),
            actor=_cut(actor or "unknown", MAX_ACTOR),
            action=action,
            account=account,
            target=_cut(mask_numbers(target), MAX_TARGET),
            detail=clean_detail(detail or {}),
        )
        expires_at = int((now + timedelta(days=RETENTION_DAYS)).timestamp())
        if once is None:
            self.store.put(entry, expires_at=expires_at)
            return entry
        return entry if self.store.put(entry, expires_at=expires_at, once=once) else None

    def page(self, account: str, *, after: str | None = None, limit: int = 25) -> AuditPage:
        return self.store.page(account, after=after, size=max(1, min(limit, MAX_PAGE)))


def once_id(action: str, account: str, once: str) -> str:
    """The entry id of ``action`` on the action identified by ``once``: the same on a retry."""
    return hashlib.sha256(f"{account}\n{action}\n{once}".encode()).hexdigest()[:32]


def mask_numbers(text: str) -> str:
    """Every phone-number-like run of digits in ``text`` masked (``+1********23``)."""
    return _PHONE_OR_UUID.sub(lambda found: found.group("uuid") or mask_phone(found.group()), text)


def clean_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """A bounded copy of ``detail``: numbers masked, strings cut, no body or secret."""
    if len(detail) > MAX_DETAIL_KEYS:
        raise ValueError(f"an audit detail has at most {MAX_DETAIL_KEYS} keys")
    cleaned: dict[str, Any] = {}
    for key, value in detail.items():
        name = str(key)
        if len(name) > MAX_DETAIL_KEY or name.casefold() in FORBIDDEN_DETAIL_KEYS:
            raise ValueError(f"audit detail key {name[:MAX_DETAIL_KEY]!r} is not allowed")
        if isinstance(value, list | tuple):
            cleaned[name] = [_scalar(item) for item in list(value)[:MAX_DETAIL_LIST]]
        else:
            cleaned[name] = _scalar(value)
    return cleaned


def _scalar(value: Any) -> Scalar:
    if value is None or isinstance(value, bool | int):
        return value  # (a float is kept as text: DynamoDB stores no binary floats)
    return _cut(mask_numbers(str(value)), MAX_DETAIL_VALUE)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + _CUT


def listing(log: AuditLog, principal: Principal, account: str, query: PageQuery) -> dict[str, Any]:
    """One page of ``account``'s record for the console, newest first, with ``next_cursor``
    (null at the end). The caller has checked ``account`` against the principal's scope; a
    cursor of another account is refused like the inbox's (403 if they may not see it, else
    400)."""
    cursor = query.cursor
    if cursor is not None and cursor.account != account:
        principal.require_account(cursor.account)
        raise BadRequest("the cursor belongs to another account's listing")
    page = log.page(account, after=cursor.after if cursor else None, limit=query.limit)
    next_cursor = Cursor(account, page.end).encode() if page.end else None
    return {"items": [entry_view(e) for e in page.entries], "next_cursor": next_cursor}


def entry_view(entry: AuditEntry) -> dict[str, Any]:
    view = entry.as_dict()
    del view["account"]  # the page's own
    return view
