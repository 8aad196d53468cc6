"""The console's read use cases, over ports (``typing.Protocol``): what each route answers.

Every use case takes the ``access.Principal`` first and checks the account against its scope
before reading anything (``AccessDenied``). Listings are bounded: a page scans at most
``MAX_SCANNED`` index entries whatever the filters, and says where it stopped (``scanned_to``,
the time of the last entry scanned, with ``next_cursor`` to go on), so a search that matches
nothing costs the same as one that matches everything. Never an auth token: an account is
shown by its name, numbers, receive switch and time zone only.

The inbox lists what the account's message index holds (inbound messages); what the project
sent appears in a contact's thread, from each message's action log, with the replies sent from
the console (their text kept: ``console.replies``) and whether a person has taken the contact
over (``takeover``). A thread's answer carries a cursor; given back (``since``), only the
groups that changed are answered, re-reading only what can still change (``thread_cursor``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from sms_automation.accounts import Account
from sms_automation.console.access import Principal
from sms_automation.console.queries import BadRequest, Cursor, MessageQuery
from sms_automation.console.replies import ConsoleReply, ReplyStore
from sms_automation.console.thread_cursor import (
    MAX_TRACKED,
    NOT_OURS,
    WINDOW,
    ThreadCursor,
    fingerprint,
    settled,
)
from sms_automation.takeover import Takeovers, current

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

MAX_SCANNED: Final = 300
"""Index entries one inbox page or thread reads at most, matching or not."""
SUMMARY_MAX_CONVERSATIONS: Final = 500
TWILIO_ERROR_URL: Final = "https://www.twilio.com/docs/api/errors/{code}"
THREAD_REPLIES: Final = 20
"""The console replies a thread shows (the newest), each with its send's delivery status."""


class NotFound(Exception):
    """Nothing of that name in this account (404)."""


class Conflict(Exception):
    """The request is fine but the thing is not in a state to do it (409)."""


@dataclass(frozen=True, slots=True)
class IndexPage:
    items: list[dict[str, Any]]
    """The messages, newest first, each with its index sort key ``gsi1sk``."""
    end_key: str | None
    """The sort key of the page's last index entry when more follow; None at the end."""


class AccountReader(Protocol):
    def list(self) -> list[Account]: ...

    def get(self, name: str) -> Account | None: ...


class MessageIndex(Protocol):
    def page(
        self, account: str, *, after: str | None, since: str | None, until: str | None, size: int
    ) -> IndexPage:
        """Messages of ``account`` newest first, after the sort key ``after``, within the
        sort-key bounds ``since`` / ``until``."""
        ...

    def count(self, account: str, since: str, until: str) -> int: ...


class MessageRecords(Protocol):
    def get(self, message_sid: str) -> dict[str, Any] | None: ...


class ActionLogs(Protocol):
    def of(self, message_sid: str) -> dict[str, Any]: ...

    def conversations(self, message_sid: str) -> list[dict[str, Any]]: ...


class ContactStates(Protocol):
    def opted_out(self, account: str, contact: str) -> bool: ...


class OpenConversations(Protocol):
    def waiting(self, account: str, limit: int) -> int: ...


class DayFigures(Protocol):
    def counts(self, account: str, since: str, until: str) -> Mapping[str, int]:
        """The counters (``daily_figures``: sent, failed) summed over the quarter hours
        from ``since`` to ``until`` (``day_bounds``)."""
        ...


@dataclass(frozen=True, slots=True)
class ConsoleReads:
    accounts: AccountReader
    index: MessageIndex
    messages: MessageRecords
    action_logs: ActionLogs
    contacts: ContactStates
    conversations: OpenConversations
    figures: DayFigures
    replies: ReplyStore
    takeovers: Takeovers

    def me(self, principal: Principal) -> dict[str, Any]:
        return principal.as_dict()

    def account_list(self, principal: Principal) -> dict[str, Any]:
        visible = [a for a in self.accounts.list() if principal.may_read(a.name)]
        return {"items": [account_view(a) for a in sorted(visible, key=lambda a: a.name)]}

    def inbox(self, principal: Principal, account: str, query: MessageQuery) -> dict[str, Any]:
        self.require_account(principal, account)
        if query.cursor is not None and query.cursor.account != account:
            principal.require_account(query.cursor.account)
            raise BadRequest("the cursor belongs to another account's listing")
        after = query.cursor.after if query.cursor else None
        if after is not None and not (query.since or "") <= after <= (query.until or "~"):
            # DynamoDB refuses a start key outside the key condition ("outside query boundaries").
            raise BadRequest("the cursor is outside since / until: start again without cursor")
        found: list[dict[str, Any]] = []
        scanned_to = None
        for item, position in self._scan(account, after, query.since, query.until):
            if position is None:
                return {"items": found, "next_cursor": None, "scanned_to": scanned_to}
            after, scanned_to = position, item.get("received_at") or scanned_to
            if matches(item, query):
                found.append(message_view(item))
            if len(found) >= query.limit:
                return _page(found, account, after, scanned_to)
        return _page(found, account, after, scanned_to)  # the scan budget ran out: go on later

    def _scan(
        self, account: str, after: str | None, since: str | None, until: str | None
    ) -> Iterator[tuple[dict[str, Any], str | None]]:
        """Up to ``MAX_SCANNED`` messages with the sort key to resume after each; a final
        ``({}, None)`` when the listing ends within the budget."""
        scanned = 0
        while scanned < MAX_SCANNED:
            size = min(100, MAX_SCANNED - scanned)
            page = self.index.page(account, after=after, since=since, until=until, size=size)
            for item in page.items:
                scanned += 1
                after = str(item.get("gsi1sk", after))
                yield item, after
            if page.end_key is None:
                yield {}, None
                return
            after = page.end_key

    def thread(
        self,
        principal: Principal,
        account: str,
        contact: str,
        now: datetime,
        since: ThreadCursor | None = None,
    ) -> dict[str, Any]:
        """Everything exchanged with ``contact``, in time order; with ``since`` (the ``cursor``
        of the last answer, ``thread_cursor``) only the groups that changed (``delta``)."""
        self.require_account(principal, account)
        if since is not None:
            self._check_cursor(principal, since, account, contact)
        groups = None if since is None or since.full else self._changed(account, contact, since)
        delta = groups is not None
        if groups is None:
            groups = self._whole(account, contact)
        entries: dict[str, dict[str, Any]] = {}
        cursor_since = _stamp(now - WINDOW)
        messages: dict[str, str] = {}
        replies: dict[str, str] = {}
        for group in groups:
            fp = fingerprint(group.entries)
            known = {} if since is None else since.messages if group.is_message else since.replies
            if group.open or group.position >= cursor_since:
                (messages if group.is_message else replies)[group.position_key] = fp
            if not delta or (since and known.get(group.position_key) != fp):
                for entry in group.entries:
                    merge_entry(entries, entry)
        held = current(self.takeovers, account, contact, now)
        newest = next((g.item for g in groups if g.item and g.new), None)
        full = len(messages) + len(replies) > MAX_TRACKED
        cursor = ThreadCursor(account, contact, cursor_since, {} if full else messages,
                              {} if full else replies, full)  # fmt: skip
        return {
            "items": sorted(entries.values(), key=lambda e: (str(e["at"] or ""), e["key"])),
            "delta": delta,
            "cursor": cursor.encode(),
            "opted_out": self.contacts.opted_out(account, contact),
            "scanned_messages": MAX_SCANNED,
            "taken_over": held.as_dict() if held else None,
            "reply_from": str(newest.get("to_number") or "") or None if newest else None,
        }

    def _check_cursor(
        self, principal: Principal, since: ThreadCursor, account: str, contact: str
    ) -> None:
        if since.account != account:
            principal.require_account(since.account)
            raise BadRequest(NOT_OURS)
        if since.contact != contact:
            raise BadRequest(NOT_OURS)

    def _whole(self, account: str, contact: str) -> list[Group]:
        """The contact's messages among the account's newest ``MAX_SCANNED``, and its replies."""
        inbound = [
            item
            for item, position in self._scan(account, None, None, None)
            if position is not None and item.get("from_number") == contact
        ]
        found = [self._message_group(item, contact, new=True) for item in inbound]
        replies = self.replies.for_contact(account, contact, THREAD_REPLIES)
        return found + [self._reply_group(reply, contact) for reply in replies]

    def _changed(self, account: str, contact: str, since: ThreadCursor) -> list[Group] | None:
        """The groups that may have changed since the cursor: the contact's messages indexed
        from ``since.since`` on, those it still follows, and the replies from the oldest it
        follows on. None: more than one poll reads (the whole thread is answered instead)."""
        new: dict[str, dict[str, Any]] = {}
        complete = False
        for item, position in self._scan(account, None, since.since, None):
            if position is None:
                complete = True
            elif item.get("from_number") == contact:
                new.setdefault(str(item.get("message_sid", "")), item)
        replies = self._replies_since(account, contact, since)
        if not complete or replies is None:
            return None
        groups = [self._message_group(item, contact, new=True) for item in new.values()]
        for sid in since.messages:
            if sid in new:
                continue
            # Validated before anything of it is read: of this account and contact, or a 400.
            followed = self.messages.get(sid)
            if followed is None or (followed.get("account"), followed.get("from_number")) != (
                account,
                contact,
            ):
                raise BadRequest(NOT_OURS)
            groups.append(self._message_group(followed, contact, new=False))
        return groups + [self._reply_group(reply, contact) for reply in replies]

    def _replies_since(
        self, account: str, contact: str, since: ThreadCursor
    ) -> list[ConsoleReply] | None:
        start = min([since.since, *since.replies])
        found = self.replies.since(account, contact, start, THREAD_REPLIES + 1)
        return None if len(found) > THREAD_REPLIES else found

    def last_number(self, account: str, contact: str) -> str | None:
        """Our number the contact last wrote to (within the thread's scan), if any."""
        for item, position in self._scan(account, None, None, None):
            if position is not None and item.get("from_number") == contact:
                return str(item.get("to_number") or "") or None
        return None

    def _reply_group(self, reply: ConsoleReply, contact: str) -> Group:
        """A console reply with its text and what became of its send (the step ``reply``)."""
        steps = self.action_logs.of(reply.reply_id).get("steps", [])
        step: dict[str, Any] = next((s for s in steps if s.get("step_id") == "reply"), {})
        status = (step.get("delivery") or {}).get("status") or step.get("state") or "sending"
        entry = {
            "key": reply.reply_id,
            "sid": step.get("resource_sid") or reply.reply_id,
            "direction": "outbound",
            "body": reply.body,
            "at": reply.sent_at,
            "status": status,
            "kind": "console_reply",
            "by": reply.by,
        }
        return Group(f"{reply.sent_at}#{reply.reply_id}", reply.sent_at, [entry],
                     not settled(contact, [entry], evaluated=False))  # fmt: skip

    def _message_group(self, item: Mapping[str, Any], contact: str, *, new: bool) -> Group:
        """A message, what its evaluation sent the contact (a conversation's prompt shown with
        its text) and the answers its conversations got."""
        sid = str(item.get("message_sid", ""))
        log = self.action_logs.of(sid)
        conversations = [
            c for c in self.action_logs.conversations(sid) if c.get("contact") == contact
        ]
        entries: dict[str, dict[str, Any]] = {}
        merge_entry(entries, _thread_entry(sid, "inbound", item, "received", "message"))
        for entry in _sent(log, conversations):
            merge_entry(entries, entry)
        group = list(entries.values())
        is_open = not settled(contact, group, log.get("evaluation"), conversations)
        at = str(item.get("received_at") or "")
        return Group(sid, at, group, is_open, item=item, new=new)

    def message(self, principal: Principal, account: str, message_sid: str) -> dict[str, Any]:
        self.require_account(principal, account)
        item = self.messages.get(message_sid)
        if item is None or item.get("account") != account:
            raise NotFound(f"account {account!r} has no message {message_sid!r}")
        steps = [step_view(step) for step in self.action_logs.of(message_sid).get("steps", [])]
        return {
            "sid": message_sid,
            "parameters": dict(item.get("params") or {}),
            "text": item.get("thinkautomation_text", ""),
            "steps": steps,
        }

    def summary(
        self, principal: Principal, account: str, day: date | None, now: datetime
    ) -> dict[str, Any]:
        from sms_automation.time_zones import time_zone  # zoneinfo: only when a summary is asked

        record = self.require_account(principal, account)
        zone = time_zone(record.timezone or "UTC")
        day = day or now.astimezone(zone).date()
        since, until = day_bounds(day, zone)
        figures = self.figures.counts(account, since, until)
        return {
            "date": day.isoformat(),
            "time_zone": zone.key,
            "received": self.index.count(account, since, until),
            "sent": int(figures.get("sent", 0)),
            "failed": int(figures.get("failed", 0)),
            "open_conversations": self.conversations.waiting(account, SUMMARY_MAX_CONVERSATIONS),
        }

    def require_account(self, principal: Principal, account: str) -> Account:
        """The account, if the principal may see it (``AccessDenied``) and it exists
        (``NotFound``)."""
        principal.require_account(account)  # before any read: no existence oracle
        record = self.accounts.get(account)
        if record is None:
            raise NotFound(f"no account {account!r}")
        return record


def account_view(account: Account) -> dict[str, Any]:
    """What the console shows of an account: never its SID's secret, never a token."""
    return {
        "name": account.name,
        "numbers": sorted(account.own_numbers),
        "receive": account.receive_enabled,
        "time_zone": account.timezone or "UTC",
    }


def message_view(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "sid": item.get("message_sid", ""),
        "direction": "inbound",
        "from": item.get("from_number", ""),
        "to": item.get("to_number", ""),
        "body": str(item.get("body", "")),
        "at": item.get("received_at", ""),
        "status": "received",
        "channel": item.get("channel", "sms"),
    }


def step_view(step: Mapping[str, Any]) -> dict[str, Any]:
    delivery = step.get("delivery") or {}
    code = delivery.get("error_code")
    return {
        "step": step.get("step_id", ""),
        "state": step.get("state", ""),
        "detail": step.get("detail", ""),
        "twilio_sid": step.get("resource_sid") or None,
        "error_code": code,
        "error_url": TWILIO_ERROR_URL.format(code=code) if str(code or "").isdigit() else None,
    }


def matches(item: Mapping[str, Any], query: MessageQuery) -> bool:
    if query.contact and item.get("from_number") != query.contact:
        return False
    if query.number and item.get("to_number") != query.number:
        return False
    if query.channel and item.get("channel") != query.channel:
        return False
    return not query.text or query.text in str(item.get("body", "")).casefold()


def day_bounds(day: date, zone: ZoneInfo) -> tuple[str, str]:
    """The UTC sort-key bounds of ``day`` in ``zone``: from its first millisecond up to (not
    including) the next day's."""
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    last = end - timedelta(milliseconds=1)
    return _stamp(start), _stamp(last) + "~"


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _page(
    found: list[dict[str, Any]], account: str, after: str | None, scanned_to: str | None
) -> dict[str, Any]:
    cursor = Cursor(account, after).encode() if after else None
    return {"items": found, "next_cursor": cursor, "scanned_to": scanned_to}


@dataclass(frozen=True, slots=True)
class Group:
    """What one message (or console reply) shows in a thread: answered whole when it changed."""

    position_key: str
    """A message's SID, a reply's sort key: how the cursor names it."""
    position: str
    """When it was received or sent (within the cursor's window: followed whatever its state)."""
    entries: list[dict[str, Any]]
    open: bool
    item: Mapping[str, Any] | None = None
    new: bool = False

    @property
    def is_message(self) -> bool:
        return "#" not in self.position_key


def merge_entry(entries: dict[str, dict[str, Any]], entry: dict[str, Any]) -> None:
    """Add ``entry`` by its key; an answer to a conversation wins over the same message's plain
    inbound entry (console/js/thread.js merges a delta by the same rule)."""
    existing = entries.get(entry["key"])
    if existing is None:
        entries[entry["key"]] = entry
    elif entry["kind"] == "conversation_answer":
        existing["kind"], existing["status"] = entry["kind"], entry["status"]


def _sent(log: Mapping[str, Any], conversations: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    # The prompt is sent by the step "{conversation's step}/prompt" (conversations.service).
    prompts = {
        str(c["id"]).partition(":")[2] + "/prompt": c for c in conversations if c.get("prompt")
    }
    prompted: set[str] = set()
    for step in log.get("steps", []):
        sid = step.get("resource_sid")
        if not (sid and str(sid).startswith(("SM", "MM"))):
            continue
        status = (step.get("delivery") or {}).get("status") or step.get("state")
        at = step.get("finished_at") or step.get("started_at")
        conversation = prompts.get(str(step.get("step_id")))
        if conversation is not None:
            prompted.add(str(conversation["id"]))
        kind = "message" if conversation is None else "conversation_prompt"
        body = None if conversation is None else conversation["prompt"]
        yield {"key": sid, "sid": sid, "direction": "outbound", "body": body, "at": at,
               "status": status, "kind": kind}  # fmt: skip
    for conversation in conversations:
        if conversation.get("prompt") and str(conversation["id"]) not in prompted:
            yield _thread_entry(str(conversation["id"]), "outbound", {
                "body": conversation["prompt"], "received_at": conversation["started_at"]
            }, str(conversation.get("status")), "conversation_prompt")  # fmt: skip
        for reply in conversation.get("replies", []):
            status = "valid" if reply.get("valid") else "invalid"
            yield _thread_entry(str(reply["sid"]), "inbound", reply, status,
                                "conversation_answer")  # fmt: skip


def _thread_entry(
    sid: str, direction: str, item: Mapping[str, Any], status: str, kind: str
) -> dict[str, Any]:
    return {
        "key": sid,
        "sid": sid,
        "direction": direction,
        "body": str(item.get("body", "")),
        "at": item.get("received_at", ""),
        "status": status,
        "kind": kind,
    }
