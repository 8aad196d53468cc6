"""The thread's writes (``console.writes``) on in-memory ports: a reply is one send per composed
message even when two requests arrive at the same moment; it is refused for an opted-out
contact, for a key reused with another text and for a user of another account (before anything
is read; a viewer is refused by the routes' role: test_route_roles.py); its sender is the number
the contact wrote to, or the one chosen among the account's; each write is audited, a reply once
and without its text."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sms_automation.accounts import Account
from sms_automation.console.access import AccessDenied, Principal, Role
from sms_automation.console.audit import AuditEntry, AuditLog, AuditPage
from sms_automation.console.queries import BadRequest
from sms_automation.console.replies import ConsoleReply
from sms_automation.console.writes import Conflict, ConsoleWrites, Unavailable, reply_id
from sms_automation.opt_out import ContactState
from sms_automation.processing.ledger import StepState
from sms_automation.processing.pacing import SendPaced
from sms_automation.processing.port import (
    EffectResult,
    LedgerActionPort,
    MaybePerformed,
    NotPerformed,
)
from sms_automation.triggers import SendSms, Step
from tests.support.fakes import (
    AuditWriteFailsOnce,
    InMemoryAuditStore,
    InMemoryContactRecords,
    InMemoryStepLedger,
    InMemoryTakeovers,
    RecordingEffects,
)

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ANN = "+14155550101"
OURS = "+15005550006"
OTHER = "+15005550007"
OPERATOR = Principal("op@example.com", Role.OPERATOR, None)


class Accounts:
    def __init__(self, *numbers: str) -> None:
        self.reads = 0
        self.account = Account(
            name="acme", account_sid="AC" + "0" * 32, receive_enabled=True, secret_id="s",
            created_at="", updated_at="", own_numbers=frozenset(numbers),
        )  # fmt: skip

    def list(self) -> list[Account]:
        return [self.account]

    def get(self, name: str) -> Account | None:
        self.reads += 1
        return self.account if name == "acme" else None


class Replies:
    def __init__(self) -> None:
        self.held: dict[str, ConsoleReply] = {}
        self._lock = threading.Lock()

    def create(self, reply: ConsoleReply) -> tuple[ConsoleReply, bool]:
        with self._lock:
            if reply.reply_id in self.held:
                return self.held[reply.reply_id], False
            self.held[reply.reply_id] = reply
            return reply, True

    def for_contact(self, account: str, contact: str, limit: int) -> list[ConsoleReply]:
        return [r for r in self.held.values() if (r.account, r.contact) == (account, contact)]


class Audit:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def put(self, entry: AuditEntry, *, expires_at: int, once: str | None = None) -> bool:
        if once is not None and any(e.id == entry.id for e in self.entries):
            return False
        self.entries.append(entry)
        return True

    def page(self, account: str, *, after: str | None, size: int) -> AuditPage:
        return AuditPage(self.entries[::-1][:size], None)


class Stage:
    def __init__(self, *numbers: str, last: str | None = OURS) -> None:
        self.accounts = Accounts(*(numbers or (OURS, OTHER)))
        self.contacts = InMemoryContactRecords()
        self.takeovers = InMemoryTakeovers()
        self.replies = Replies()
        self.ledger = InMemoryStepLedger()
        self.effects = RecordingEffects()
        self.audit = Audit()
        self.writes = ConsoleWrites(
            accounts=self.accounts,
            contacts=self.contacts,
            takeovers=self.takeovers,
            replies=self.replies,
            port_for=lambda rid, account: LedgerActionPort(
                rid, self.ledger, self.effects, lambda: NOW, lease=timedelta(minutes=2)
            ),
            last_number=lambda account, contact: last,
            audit=AuditLog(self.audit, clock=lambda: NOW),
        )

    def reply(self, body: Any, principal: Principal = OPERATOR, contact: str = ANN) -> Any:
        return self.writes.reply(principal, "acme", contact, body, NOW)

    def sent(self) -> list[Step]:
        return list(self.effects.performed)


def test_a_reply_is_sent_once_from_the_number_the_contact_wrote_to_and_audited_once() -> None:
    stage = Stage()
    request = {"body": "Hello from a person", "key": "compose-1"}

    first, again = stage.reply(request), stage.reply(request)

    assert first.status == again.status == 200
    assert first.body["sid"] == again.body["sid"]
    [step] = stage.sent()
    assert isinstance(step, SendSms)
    assert (step.step_id, step.to, step.from_, step.body) == (
        "reply",
        ANN,
        OURS,
        "Hello from a person",
    )
    assert first.body["reply_id"] == reply_id("acme", ANN, "compose-1")
    [entry] = stage.audit.entries
    assert (entry.action, entry.actor, entry.target) == (
        "contact.reply",
        "op@example.com",
        "+1********01",
    )
    assert "Hello" not in str(entry.detail)


def test_two_requests_at_the_same_moment_make_one_send() -> None:
    stage = Stage()
    inside, go_on = threading.Event(), threading.Event()

    def hold(step: Step) -> None:
        inside.set()
        assert go_on.wait(5)

    stage.effects.during = hold
    request = {"body": "Once", "key": "compose-2"}
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(stage.reply, request)
        assert inside.wait(5)
        second = stage.reply(request)  # the first one is inside its send
        go_on.set()
        answers = [first.result(5), second]

    assert sorted(a.status for a in answers) == [200, 202]
    assert answers[1].body["state"] == "sending"
    assert len(stage.sent()) == 1
    assert len(stage.audit.entries) == 1


def test_a_send_twilio_did_not_take_is_a_503_and_the_same_key_sends_it_later() -> None:
    stage = Stage()
    stage.effects.refuse_next(NotPerformed("rate limited"))
    request = {"body": "Try again", "key": "compose-3"}

    with pytest.raises(Unavailable, match="send again"):
        stage.reply(request)
    assert stage.reply(request).status == 200
    assert len(stage.sent()) == 1


def test_an_opted_out_contact_and_a_reused_key_are_refused_and_nothing_is_sent() -> None:
    stage = Stage()
    stage.contacts.record(
        ContactState("acme", OURS, ANN, True, "STOP", "2026-12-01T00:00:00Z", "SM1")
    )
    with pytest.raises(Conflict, match="opted out") as refused:
        stage.reply({"body": "hi", "key": "compose-4"})
    assert refused.value.code == "opted_out"
    assert stage.replies.held == {}

    stage.reply({"body": "from the other number", "key": "compose-5", "from": OTHER})
    with pytest.raises(Conflict) as reused:
        stage.reply({"body": "another text", "key": "compose-5", "from": OTHER})
    assert reused.value.code == "key_reused"
    assert [s.body for s in stage.sent() if isinstance(s, SendSms)] == ["from the other number"]


def test_another_accounts_user_is_refused_before_anything_is_read() -> None:
    # A viewer: refused by the routes' role (tests/unit/console/test_route_roles.py).
    stage = Stage()
    foreign = Principal("fo@example.com", Role.ADMIN, frozenset({"globex"}))
    with pytest.raises(AccessDenied):
        stage.reply({"body": "hi", "key": "compose-6"}, foreign)
    with pytest.raises(AccessDenied):
        stage.writes.take_over(foreign, "acme", ANN, {}, NOW)
    with pytest.raises(AccessDenied):
        stage.writes.hand_back(foreign, "acme", ANN, {}, NOW)
    assert stage.accounts.reads == 0
    assert stage.sent() == []
    assert stage.takeovers.held == {}


def test_the_sender_is_the_accounts_own() -> None:
    with pytest.raises(BadRequest, match="account's numbers"):
        Stage().reply({"body": "hi", "key": "compose-7", "from": "+15550000000"})
    with pytest.raises(BadRequest, match="name one in 'from'"):
        Stage(last=None).reply({"body": "hi", "key": "compose-7"})
    only = Stage(OTHER, last=None)  # one number, and the contact never wrote: that one
    assert only.reply({"body": "hi", "key": "compose-7"}).body["from"] == OTHER


def test_take_over_and_hand_back_are_audited_with_who_and_since_when() -> None:
    stage = Stage()
    taken = stage.writes.take_over(OPERATOR, "acme", ANN, {"minutes": 30}, NOW)
    assert taken.body["taken_over"]["until"] == "2026-12-07T09:30:00.000Z"
    back = stage.writes.hand_back(OPERATOR, "acme", ANN, {}, NOW + timedelta(minutes=5))
    assert back.body == {"taken_over": None, "was": taken.body["taken_over"]}
    assert [e.action for e in stage.audit.entries] == ["contact.takeover", "contact.handback"]
    assert stage.audit.entries[1].detail["taken_over_by"] == "op@example.com"
    with pytest.raises(BadRequest, match="unknown field"):
        stage.writes.hand_back(OPERATOR, "acme", ANN, {"minutes": 5}, NOW)


def test_a_hand_back_reads_nothing_first_and_only_the_one_that_ended_it_is_audited() -> None:
    """Two hand-backs at the same moment, in sequence: the delete tells what it removed, so
    the first answers and audits the takeover it ended; the second finds none (no entry)."""
    stage = Stage()
    taken = stage.writes.take_over(OPERATOR, "acme", ANN, {"minutes": 30}, NOW)
    reads = stage.takeovers.reads
    first = stage.writes.hand_back(OPERATOR, "acme", ANN, {}, NOW)
    second = stage.writes.hand_back(OPERATOR, "acme", ANN, {}, NOW)
    assert stage.takeovers.reads == reads, "the delete returns what it removed: no read first"
    assert first.body == {"taken_over": None, "was": taken.body["taken_over"]}
    assert second.body == {"taken_over": None, "was": None}
    assert [e.action for e in stage.audit.entries] == ["contact.takeover", "contact.handback"]


def test_a_retry_after_a_failed_audit_write_audits_the_reply_exactly_once() -> None:
    stage = Stage()
    store = InMemoryAuditStore()
    audit = AuditLog(AuditWriteFailsOnce(store), clock=lambda: NOW)
    writes = dataclasses.replace(stage.writes, audit=audit)
    request = {"body": "Hello from a person", "key": "compose-2"}
    with pytest.raises(RuntimeError, match="audit write failed"):
        writes.reply(OPERATOR, "acme", ANN, request, NOW)  # sent; the user sees a 500
    again = writes.reply(OPERATOR, "acme", ANN, request, NOW)
    writes.reply(OPERATOR, "acme", ANN, request, NOW)
    assert again.status == 200
    assert len(stage.sent()) == 1
    [entry] = store.entries["acme"]
    assert (entry.action, entry.detail["reply_id"]) == ("contact.reply", again.body["reply_id"])


def test_a_padded_sender_is_the_number_itself_so_an_opt_out_of_it_refuses_the_reply() -> None:
    stage = Stage()
    stage.contacts.record(
        ContactState("acme", OURS, ANN, True, "STOP", "2026-12-01T00:00:00Z", "SM1")
    )
    with pytest.raises(Conflict) as refused:
        stage.reply({"body": "hi", "key": "compose-p1", "from": f" {OURS} "})
    assert refused.value.code == "opted_out"
    assert stage.sent() == []
    sent = stage.reply({"body": "hi", "key": "compose-p2", "from": f"\t{OTHER} "})
    assert sent.body["from"] == OTHER
    [step] = stage.sent()
    assert isinstance(step, SendSms)
    assert step.from_ == OTHER
    assert stage.replies.held[sent.body["reply_id"]].from_ == OTHER


def test_a_paced_send_is_a_503_not_sent_with_its_wait_and_the_same_key_sends_it_once() -> None:
    stage = Stage()
    later = NOW + timedelta(seconds=3)
    stage.effects.refuse_next(SendPaced("Twilio asked to send slower", retry_at=later))
    request = {"body": "Slow down", "key": "compose-s1"}

    with pytest.raises(Unavailable, match="not sent") as paced:
        stage.reply(request)
    assert paced.value.retry_after == 3
    assert stage.ledger.steps == {}  # the claim went with the wait: nothing holds the send
    assert stage.reply(request).status == 200
    assert stage.reply(request).status == 200
    assert len(stage.sent()) == 1


def test_an_unknown_outcome_is_202_unknown_and_the_same_key_settles_it_by_a_lookup() -> None:
    stage = Stage()
    stage.effects.refuse_next(MaybePerformed("Twilio answered 502"))
    request = {"body": "Did it go?", "key": "compose-u1"}

    unknown = stage.reply(request)
    assert (unknown.status, unknown.body["state"]) == (202, "unknown")
    assert unknown.body["retry_after"] >= 1
    found = EffectResult(StepState.DONE, "message SMfound queued", {"sid": "SMfound"}, "SMfound")
    stage.effects.found = lambda step: found

    checked = stage.reply(request)  # "check again": the ledger looks at Twilio, sends nothing
    assert (checked.status, checked.body["state"], checked.body["sid"]) == (200, "sent", "SMfound")
    assert stage.sent() == []
    assert [step for step, _ in stage.effects.looked_up] == ["reply"]
    assert stage.reply(request).body["sid"] == "SMfound"
    assert len(stage.effects.looked_up) == 1
