"""The Conversations page's use cases (``console.conversations``) over in-memory ports: a page
scans a bounded number of conversations whatever it finds; a cancel that loses the race is a
conflict and is not audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from sms_automation.console.access import Principal, Role
from sms_automation.console.audit import AuditLog
from sms_automation.console.conversations import (
    CONVERSATION_KEY,
    MAX_SCANNED,
    ConsoleConversations,
    ConversationPage,
)
from sms_automation.console.queries import PageQuery, decode_cursor
from sms_automation.console.reads import Conflict, NotFound
from sms_automation.conversations.model import Conversation
from tests.support.fakes import AuditWriteFailsOnce, InMemoryAuditStore

OPERATOR = Principal("bo@example.com", Role.OPERATOR, frozenset({"acme"}))


def conversation(n: int, status: str = "waiting") -> Conversation:
    return Conversation(
        message_sid=f"SM{n:032x}", step_id="ask/1", account="acme", contact="+14155550101",
        our_number="+15005550006", trigger="ask", started_at=f"2026-12-07T04:{n // 60 % 60:02d}"
        f":{n % 60:02d}Z", deadline="2026-12-08T00:00:00Z", reminders=(), status=status,
    )  # fmt: skip


class Listing:
    """Conversations newest first, ``size`` per page, counting what was read."""

    def __init__(self, conversations: list[Conversation]) -> None:
        self.items = [(c, f"{c.started_at}#{c.message_sid}#{c.step_id}") for c in conversations]
        self.read = 0

    def page(self, account: str, *, after: str | None, size: int) -> ConversationPage:
        start = 0 if after is None else [p for _, p in self.items].index(after) + 1
        chunk = self.items[start : start + size]
        self.read += len(chunk)
        more = start + size < len(self.items)
        return ConversationPage(chunk, chunk[-1][1] if more and chunk else None)


class Canceller:
    def __init__(self, found: Conversation | None, wins: bool) -> None:
        self.found, self.wins = found, wins

    def get(self, message_sid: str, step_id: str) -> Conversation | None:
        return self.found

    def cancel(self, message_sid: str, step_id: str, by: str) -> bool:
        return self.wins


def console(
    listing: Listing, canceller: Canceller, store: InMemoryAuditStore
) -> ConsoleConversations:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    return ConsoleConversations(listing, canceller, AuditLog(store, clock=lambda: now))


def test_a_page_reads_at_most_the_scan_budget_and_says_where_to_go_on() -> None:
    finished = [conversation(n, "replied") for n in range(MAX_SCANNED + 50, 0, -1)]
    listing = Listing([*finished, conversation(0)])
    pages = console(listing, Canceller(None, True), InMemoryAuditStore())
    first = pages.waiting(OPERATOR, "acme", PageQuery())
    assert first["items"] == []
    assert listing.read == MAX_SCANNED
    cursor = decode_cursor(first["next_cursor"], key=CONVERSATION_KEY)
    second = pages.waiting(OPERATOR, "acme", PageQuery(cursor=cursor))
    assert [item["id"] for item in second["items"]] == [f"SM{0:032x}:ask/1"]
    assert second["next_cursor"] is None


def test_a_cancel_that_loses_the_race_is_a_conflict_and_is_not_audited() -> None:
    store = InMemoryAuditStore()
    lost = console(Listing([]), Canceller(conversation(1), wins=False), store)
    with pytest.raises(Conflict, match="ended meanwhile"):
        lost.cancel(OPERATOR, "acme", {"id": f"SM{1:032x}:ask/1"})
    ended = console(Listing([]), Canceller(conversation(1, "timeout"), wins=True), store)
    with pytest.raises(Conflict, match="timeout"):
        ended.cancel(OPERATOR, "acme", {"id": f"SM{1:032x}:ask/1"})
    other = console(Listing([]), Canceller(conversation(1), wins=True), store)
    admin = Principal("root@example.com", Role.ADMIN, None)
    with pytest.raises(NotFound):
        other.cancel(admin, "globex", {"id": f"SM{1:032x}:ask/1"})  # acme's, asked as globex's
    assert store.entries == {}
    other.cancel(OPERATOR, "acme", {"id": f"SM{1:032x}:ask/1"})
    [entry] = store.entries["acme"]
    assert (entry.action, entry.actor) == ("conversation.cancel", "bo@example.com")


class CancelsOnce(Canceller):
    """The store's cancel: the first wins, after it the conversation reads as cancelled."""

    def __init__(self, found: Conversation) -> None:
        super().__init__(found, wins=True)

    def cancel(self, message_sid: str, step_id: str, by: str) -> bool:
        assert self.found is not None
        if self.found.status != "waiting":
            return False
        self.found = replace(self.found, status="cancelled", cancelled_by=by)
        return True


def test_a_retry_after_a_failed_audit_write_audits_the_cancel_exactly_once() -> None:
    store = InMemoryAuditStore()
    canceller = CancelsOnce(conversation(1))
    failing = console(Listing([]), canceller, AuditWriteFailsOnce(store))  # type: ignore[arg-type]
    cancel = {"id": f"SM{1:032x}:ask/1"}
    with pytest.raises(RuntimeError, match="audit write failed"):
        failing.cancel(OPERATOR, "acme", cancel)  # cancelled; the user sees a 500
    with pytest.raises(Conflict, match="cancelled"):
        failing.cancel(OPERATOR, "acme", cancel)  # their retry finds it done: audited now
    with pytest.raises(Conflict, match="cancelled"):
        failing.cancel(OPERATOR, "acme", cancel)  # and not again
    [entry] = store.entries["acme"]
    assert (entry.action, entry.target) == ("conversation.cancel", cancel["id"])


def test_a_conversation_ended_otherwise_is_not_audited_as_cancelled() -> None:
    store = InMemoryAuditStore()
    ended = console(Listing([]), Canceller(conversation(1, "timeout"), wins=False), store)
    with pytest.raises(Conflict, match="timeout"):
        ended.cancel(OPERATOR, "acme", {"id": f"SM{1:032x}:ask/1"})
    assert store.entries == {}


def test_a_conversation_cancelled_by_someone_else_is_not_credited_to_whoever_clicks() -> None:
    """``cancelled`` is also what a takeover's paused prompt and the CLI's cancel leave: only
    the user who cancelled it finds their own cancel done (and audited once); anyone else gets
    a plain 409, with no audit entry."""
    store = InMemoryAuditStore()
    cancel = {"id": f"SM{1:032x}:ask/1"}
    for by in ("", "al@example.com"):  # a takeover's paused prompt / the CLI; another operator
        done = conversation(1, "cancelled")
        if by:
            done = replace(done, cancelled_by=by)
        found = console(Listing([]), Canceller(done, wins=False), store)
        with pytest.raises(Conflict, match="cancelled"):
            found.cancel(OPERATOR, "acme", cancel)
    assert store.entries == {}
