"""The console's Conversations page: an account's conversations waiting for a reply (deadline,
reminders, attempts; on request the ended ones too, with their outcome), a bounded page at a
time, and **cancel** — the path
``sms-automation conversations cancel`` takes (``conversations.service.Conversations.cancel``:
a conditional update on ``status = waiting``, so of two cancels at the same moment exactly one
ends it), audited ``conversation.cancel``.

A listing page scans at most ``MAX_SCANNED`` conversations of the account (newest first,
waiting or not) and returns the waiting ones among them with ``next_cursor`` to go on, so an
account with thousands of finished conversations costs the same per page as a quiet one. A
cancel answers 404 for a conversation of another account (as for one that does not exist: no
leak), 409 for one that is no longer waiting. The conversation keeps who cancelled it
(``cancelled_by``): a user whose cancel is found done (their retry after a failed audit write)
has it audited then, once; a conversation cancelled otherwise (by another user, by a takeover
pausing its prompt, by the CLI) is a plain 409 with no audit entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from sms_automation.console.access import Principal
from sms_automation.console.audit import AuditLog
from sms_automation.console.queries import BadRequest, Cursor, PageQuery
from sms_automation.console.reads import Conflict, NotFound
from sms_automation.conversations.model import Conversation, split_conversation_id
from sms_automation.triggers.outcomes import ConversationOutcome

MAX_SCANNED: Final = 300
MAX_ID_CHARS: Final = 300
CONVERSATION_KEY: Final = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{2,20}Z#[A-Za-z0-9]{2,64}#[^\x00-\x1f]{1,256}$"
)
"""An account's conversation listing sorts by ``{started_at}#{MessageSid}#{step id}``: what a
cursor of this listing may hold (``queries.page_query(..., key=CONVERSATION_KEY)``)."""


@dataclass(frozen=True, slots=True)
class ConversationPage:
    items: list[tuple[Conversation, str]]
    """Newest first, each with its listing position (to resume after it)."""
    end_key: str | None
    """The last position read when more follow; None at the end."""


class ConversationListing(Protocol):
    def page(self, account: str, *, after: str | None, size: int) -> ConversationPage: ...


class ConversationCanceller(Protocol):
    def get(self, message_sid: str, step_id: str) -> Conversation | None: ...

    def cancel(self, message_sid: str, step_id: str, by: str) -> bool:
        """End it as cancelled by ``by`` (kept as its ``cancelled_by``) if still waiting; False
        when it was not (or no longer)."""
        ...


@dataclass(frozen=True, slots=True)
class ConsoleConversations:
    listing: ConversationListing
    canceller: ConversationCanceller
    audit: AuditLog

    def waiting(
        self, principal: Principal, account: str, query: PageQuery, *, finished: bool = False
    ) -> dict[str, Any]:
        """One page of the account's waiting conversations (``finished``: and the ended ones,
        with their outcome and when it came), newest first."""
        principal.require_account(account)
        cursor = query.cursor
        if cursor is not None and cursor.account != account:
            principal.require_account(cursor.account)
            raise BadRequest("the cursor belongs to another account's listing")
        after = cursor.after if cursor else None
        found: list[dict[str, Any]] = []
        scanned = 0
        while scanned < MAX_SCANNED:
            size = min(100, MAX_SCANNED - scanned)
            page = self.listing.page(account, after=after, size=size)
            for conversation, position in page.items:
                scanned += 1
                after = position
                if finished or conversation.waiting:
                    found.append(conversation_view(conversation))
                if len(found) >= query.limit:
                    return _page(found, account, after)
            if page.end_key is None:
                return _page(found, account, None)
            after = page.end_key
        return _page(found, account, after)  # the scan budget ran out: go on later

    def cancel(self, principal: Principal, account: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Cancel the waiting conversation ``body["id"]`` of ``account``; audited."""
        principal.require_account(account)
        text = body.get("id")
        if not isinstance(text, str) or not 0 < len(text) <= MAX_ID_CHARS:
            raise BadRequest("id must be the conversation's id (MessageSid:step-id)")
        try:
            message_sid, step_id = split_conversation_id(text)
        except ValueError:
            raise BadRequest("id must be the conversation's id (MessageSid:step-id)") from None
        conversation = self.canceller.get(message_sid, step_id)
        if conversation is None or conversation.account != account:
            raise NotFound(f"account {account!r} has no conversation {text!r}")
        if not conversation.waiting:
            if _cancelled_by(conversation, principal):  # their retry after a failed audit
                self._audit(principal, conversation, found_cancelled=True)  # write: now, once
            raise Conflict(f"the conversation is not waiting any more ({conversation.status})")
        if not self.canceller.cancel(message_sid, step_id, principal.email):
            raise Conflict("the conversation ended meanwhile (answered, timed out or cancelled)")
        self._audit(principal, conversation, found_cancelled=False)
        return {"id": conversation.id, "status": "cancelled"}

    def _audit(self, principal: Principal, conversation: Conversation, *, found_cancelled: bool
               ) -> None:  # fmt: skip
        """Once per conversation (its id): a cancel's retry, or two at once, audit it once."""
        self.audit.record(
            actor=principal.email,
            action="conversation.cancel",
            account=conversation.account,
            target=conversation.id,
            detail={"contact": conversation.contact, "trigger": conversation.trigger}
            | ({"found_cancelled": True} if found_cancelled else {}),
            once=conversation.id,
        )  # fmt: skip


def _cancelled_by(conversation: Conversation, principal: Principal) -> bool:
    """Whether this user's own cancel ended it: ``cancelled`` is also what a takeover's paused
    prompt and the CLI's cancel leave (no ``cancelled_by``), and another user's cancel."""
    return (
        conversation.status == ConversationOutcome.CANCELLED
        and conversation.cancelled_by == principal.email
    )


def conversation_view(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "contact": conversation.contact,
        "our_number": conversation.our_number,
        "trigger": conversation.trigger,
        "status": conversation.status,
        "started_at": conversation.started_at,
        "deadline": conversation.deadline,
        "reminders": [{"at": at, "text": text} for at, text in conversation.reminders],
        "attempts": conversation.attempts,
        "max_attempts": conversation.max_attempts,
        "prompt": conversation.prompt,
        "resolved_at": conversation.resolved_at or None,
    }


def _page(found: list[dict[str, Any]], account: str, after: str | None) -> dict[str, Any]:
    cursor = Cursor(account, after).encode() if after else None
    return {"items": found, "next_cursor": cursor}
