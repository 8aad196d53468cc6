"""What a message goes through before its triggers (``processing.intake``), over in-memory
ports: the loop guard, opt-out / opt-in / HELP keywords, answers to conversations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from sms_automation.accounts import Account
from sms_automation.conversations.service import ReplyRouting
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.opt_out import Keyword
from sms_automation.processing.evaluations import EvaluationRecord
from sms_automation.processing.intake import HELP_STEP, OWN, Intake
from sms_automation.processing.port import EnginePort, LedgerActionPort, lease_for
from sms_automation.processing.runner import EvaluationResult
from sms_automation.triggers import ActionPort, SendSms
from tests.support.fakes import (
    InMemoryContactRecords,
    InMemoryEvaluationAndReply,
    InMemoryEvaluationStore,
    InMemoryStepLedger,
    RecordingEffects,
)

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
OURS, CONTACT = "+15005550006", "+14155550101"


class TriggersRan:
    """The processor, as far as intake sees it: each message it evaluated (and how); a finished
    run is answered as it is, as ``runner.MessageProcessor`` does."""

    def __init__(self, evaluations: InMemoryEvaluationStore) -> None:
        self.evaluations = evaluations
        self.processed: list[tuple[str, bool]] = []

    def process(self, message: Mapping[str, Any], *, opt_out: bool = False) -> EvaluationResult:
        existing = self.evaluations.get(str(message["message_sid"]))
        return self.process_after_read(message, existing, opt_out=opt_out)

    def went_on(
        self, message: Mapping[str, Any], written: EvaluationRecord, *, opt_out: bool = False
    ) -> EvaluationResult:
        if not written.finished:
            self.processed.append((str(message["body"]), opt_out))
        return EvaluationResult(written, replayed=written.attempts > 1)

    def process_after_read(
        self,
        message: Mapping[str, Any],
        existing: EvaluationRecord | None,
        *,
        opt_out: bool = False,
    ) -> EvaluationResult:
        if existing is not None and existing.finished:
            return EvaluationResult(existing, replayed=True)
        self.processed.append((str(message["body"]), opt_out))
        run = self.evaluations.start(
            str(message["message_sid"]),
            "acme",
            trigger_version=1,
            fingerprint="",
            now=utc_timestamp(NOW),
        )
        return EvaluationResult(run, replayed=False)


class OpenConversations:
    """The conversations, as far as intake sees them: which answers they take."""

    def __init__(self) -> None:
        self.routing = ReplyRouting.NOT_A_REPLY
        self.opted_out: list[str] = []

    def route_reply_after_read(self, message: Mapping[str, Any], recorded: Any) -> ReplyRouting:
        return self.routing

    def opt_out(self, message: Mapping[str, Any], keyword: str) -> bool:
        self.opted_out.append(keyword)
        return True


class AccountItems:
    def __init__(self, account: Account) -> None:
        self.accounts = {account.name: account}
        self.stored_numbers: list[frozenset[str]] = []

    def find(self, name: str) -> Account | None:
        return self.accounts.get(name)

    def add_own_numbers(self, name: str, numbers: frozenset[str]) -> None:
        self.stored_numbers.append(numbers)


class OverlappedRead(InMemoryEvaluationAndReply):
    """Reads no evaluation yet, and then another attempt pins one (a redelivery overlapping)."""

    def __init__(self, evaluations: InMemoryEvaluationStore) -> None:
        super().__init__(evaluations)
        self.evaluations = evaluations

    def evaluation_and_reply(self, message_sid: str) -> tuple[EvaluationRecord | None, Any]:
        read = super().evaluation_and_reply(message_sid)
        self.evaluations.start(
            message_sid, "acme", trigger_version=1, fingerprint="", now=utc_timestamp(NOW)
        )
        return read


class World:
    def __init__(self, *, overlapped: bool = False, **account: Any) -> None:
        self.evaluations = InMemoryEvaluationStore()
        self.triggers = TriggersRan(self.evaluations)
        self.conversations = OpenConversations()
        self.accounts = AccountItems(
            Account(
                "acme",
                "AC" + "0" * 32,
                True,
                "secret",
                utc_timestamp(NOW),
                utc_timestamp(NOW),
                **account,
            )
        )
        self.contacts = InMemoryContactRecords()
        self.ledger = InMemoryStepLedger()
        self.effects = RecordingEffects()
        self.stored: dict[str, dict[str, Any]] = {}
        self.intake = Intake(
            evaluations=self.evaluations,
            records=(OverlappedRead if overlapped else InMemoryEvaluationAndReply)(
                self.evaluations
            ),
            processor=lambda: self.triggers,
            conversations=lambda: self.conversations,
            directory=self.accounts,
            contacts=self.contacts,
            own_numbers=self.accounts,
            stored_message=self.stored.get,
            port_for=self.port_for,
            clock=lambda: NOW,
        )

    def port_for(self, message: Mapping[str, Any]) -> ActionPort:
        sid = str(message["message_sid"])
        steps = LedgerActionPort(sid, self.ledger, self.effects, lambda: NOW, lease=lease_for(60))
        return EnginePort(steps, conversations=None)


def message(
    body: str, sid: str = "SM" + "1" * 32, sender: str = CONTACT, at: datetime = NOW
) -> dict[str, Any]:
    return {
        "message_sid": sid,
        "account": "acme",
        "from_number": sender,
        "to_number": OURS,
        "body": body,
        "received_at": utc_timestamp(at),
    }


@pytest.fixture
def world() -> World:
    return World()


def test_intake_runs_nothing_for_a_message_from_one_of_the_accounts_own_numbers() -> None:
    world = World(own_numbers=frozenset({"+15005550999"}))
    _, result = world.intake.handle(message("hi", sender="+15005550999"))
    assert (result.evaluation.status, result.evaluation.finished) == (OWN, True)
    assert "one of the account's own numbers" in result.evaluation.diagnostics[0]["message"]
    assert world.triggers.processed == []


def test_an_own_number_message_racing_another_attempt_counts_this_attempt_once() -> None:
    world = World(overlapped=True, own_numbers=frozenset({"+15005550999"}))

    _, result = world.intake.handle(message("hi", sender="+15005550999"))

    assert (result.evaluation.status, result.evaluation.attempts) == ("running", 2)
    assert world.triggers.processed == [("hi", False)]  # the other attempt's run goes on


def test_intake_remembers_each_number_the_account_receives_on_once(world: World) -> None:
    world.intake.handle(message("hi", sid="SM" + "1" * 32))
    world.intake.handle(message("hi again", sid="SM" + "2" * 32))
    assert world.accounts.stored_numbers == [frozenset({OURS})]
    _, looped = world.intake.handle(message("echo", sid="SM" + "3" * 32, sender=OURS))
    assert looped.evaluation.status == OWN


def test_intake_records_an_opt_out_ends_the_conversation_and_runs_only_opt_out_triggers(
    world: World,
) -> None:
    world.intake.handle(message("STOP"))
    state = world.contacts.get("acme", OURS, CONTACT)
    assert state is not None
    assert (state.opted_out, state.keyword) == (True, "STOP")
    assert world.conversations.opted_out == ["STOP"]
    assert world.triggers.processed == [("STOP", True)]
    assert world.intake.take_keyword_counts() == {Keyword.OPT_OUT: 1}


def test_intake_treats_an_opt_in_from_a_contact_who_never_opted_out_as_ordinary(
    world: World,
) -> None:
    world.intake.handle(message("START"))
    assert world.triggers.processed == [("START", False)]
    assert world.contacts.states == {}


def test_intake_re_subscribes_a_contact_who_opted_out(world: World) -> None:
    world.intake.handle(message("STOP", sid="SM" + "1" * 32))
    later = NOW.replace(minute=5)
    _, result = world.intake.handle(message("START", sid="SM" + "2" * 32, at=later))
    assert result.evaluation.status == "opted_in"
    state = world.contacts.get("acme", OURS, CONTACT)
    assert state is not None
    assert state.opted_out is False


def test_intake_answers_help_once_with_the_accounts_text() -> None:
    world = World(help_text="Acme: reply STOP to end")
    _, first = world.intake.handle(message("HELP"))
    _, again = world.intake.handle(message("HELP"))  # a redelivery

    assert (first.evaluation.status, again.evaluation.finished) == ("help", True)
    assert [(s.step_id, s.body) for s in world.effects.performed if isinstance(s, SendSms)] == [
        (HELP_STEP, "Acme: reply STOP to end")
    ]
    assert world.triggers.processed == []


def test_intake_leaves_an_answer_consumed_by_a_conversation_to_it(world: World) -> None:
    world.conversations.routing = ReplyRouting.CONSUMED
    routing, result = world.intake.handle(message("yes"))
    assert (routing, result.evaluation.status) == (ReplyRouting.CONSUMED, "conversation_reply")
    assert world.triggers.processed == []


def test_intake_replays_a_stored_message_an_opt_out_as_an_opt_out(world: World) -> None:
    world.stored["SM" + "5" * 32] = message("STOP", sid="SM" + "5" * 32)
    world.intake.replay("SM" + "5" * 32)
    assert world.triggers.processed == [("STOP", True)]
    with pytest.raises(LookupError, match="is gone"):
        world.intake.replay("SM" + "6" * 32)


def test_a_deferred_message_replayed_is_no_answer_to_a_conversation_opened_meanwhile(
    world: World,
) -> None:
    routing, first = world.intake.handle(message("book"))  # its run waits (deferred, say)
    assert (routing, first.evaluation.status) == (ReplyRouting.NOT_A_REPLY, "running")
    world.conversations.routing = ReplyRouting.CONSUMED  # a conversation with them opened since

    routing, replayed = world.intake.handle(message("book"))  # the retry queue's replay

    assert (routing, replayed.evaluation.status) == (ReplyRouting.NOT_A_REPLY, "running")
    assert world.triggers.processed == [("book", False), ("book", False)]  # its run went on


def test_a_deferred_opt_out_replayed_is_recorded_once_and_still_an_opt_out(world: World) -> None:
    world.intake.handle(message("STOP"))
    world.intake.handle(message("STOP"))  # its opt-out triggers' run was deferred: replayed

    assert world.triggers.processed == [("STOP", True), ("STOP", True)]
    assert world.conversations.opted_out == ["STOP"]
    assert world.intake.take_keyword_counts() == {Keyword.OPT_OUT: 1}
