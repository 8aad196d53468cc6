"""The conversation use cases over in-memory ports (``tests/support/fakes.py``: the conversation
store and workflow, the step ledger; the same contracts as DynamoDB and Step Functions):
opened and started once, resolved once, every SMS a ledger step of the message."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sms_automation.conversations.model import WAITING, execution_name
from sms_automation.conversations.service import Conversations, ReplyRouting
from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import EffectResult, LedgerActionPort, NotPerformed, lease_for
from sms_automation.triggers import OutcomeStatus, SendSms, WaitForReply
from sms_automation.triggers.plan import ReminderSpec
from tests.support.fakes import (
    FakeConversationWorkflow,
    InMemoryConversationStore,
    InMemoryStepLedger,
    RecordingEffects,
)

SID = "SM" + "1" * 32
CONTACT, OURS = "+14155550101", "+15005550006"
T0 = datetime(2026, 12, 6, 12, tzinfo=UTC)
ASK = WaitForReply(
    step_id="ask/1",
    trigger="ask",
    to=CONTACT,
    from_=OURS,
    prompt="Yes or no?",
    timeout_seconds=3600,
    until=None,
    reminders=(ReminderSpec(600, "Still there?"),),
    expect_words=("yes", "no"),
    reprompt="Please answer yes or no",
    max_attempts=2,
)


class World:
    def __init__(self) -> None:
        self.store = InMemoryConversationStore()
        self.workflow = FakeConversationWorkflow()
        self.ledger = InMemoryStepLedger()
        self.effects = RecordingEffects()
        self.now = T0
        self.service = Conversations(
            store=self.store,
            workflow=self.workflow,
            port_for=self.port_for,
            clock=lambda: self.now,
        )

    def port_for(self, message_sid: str, account: str) -> LedgerActionPort:
        return LedgerActionPort(
            message_sid, self.ledger, self.effects, lambda: self.now, lease=lease_for(60)
        )

    def sent(self) -> list[tuple[str, str]]:
        return [
            (step.step_id, step.body)
            for step in self.effects.performed
            if isinstance(step, SendSms)
        ]

    def started(self, step: WaitForReply = ASK, sid: str = SID) -> None:
        """The processor met the wait and the state machine registered it."""
        self.service.perform(sid, "acme", step)
        self.service.register(sid, step.step_id, f"token-{sid}")

    def status(self, sid: str = SID) -> str:
        conversation = self.store.get(sid, ASK.step_id)
        assert conversation is not None
        return conversation.status


def reply(body: str, sid: str = "SM" + "9" * 32) -> dict[str, Any]:
    return {
        "message_sid": sid,
        "account": "acme",
        "to_number": OURS,
        "from_number": CONTACT,
        "body": body,
        "received_at": "2026-12-06T12:05:00Z",
    }


@pytest.fixture
def world() -> World:
    return World()


def test_conversations_open_and_start_a_conversation_once_however_often_it_is_met(
    world: World,
) -> None:
    first = world.service.perform(SID, "acme", ASK)
    again = world.service.perform(SID, "acme", ASK)

    assert (first.status, again.status) == (OutcomeStatus.PENDING, OutcomeStatus.PENDING)
    assert list(world.workflow.started) == [execution_name(SID, ASK.step_id)]
    conversation = world.store.get(SID, ASK.step_id)
    assert conversation is not None
    assert conversation.execution_arn.endswith(execution_name(SID, ASK.step_id))
    assert conversation.deadline == "2026-12-06T13:00:00Z"


def test_conversations_register_sends_the_prompt_once_as_a_step_of_the_message(
    world: World,
) -> None:
    world.started()
    world.service.register(SID, ASK.step_id, f"token-{SID}")  # the task retried

    assert world.sent() == [("ask/1/prompt", "Yes or no?")]
    assert world.ledger.get(SID, "ask/1/prompt") is not None
    assert world.store.find_open_conversation("acme", OURS, CONTACT) is not None
    assert world.status() == WAITING


def test_conversations_register_again_a_prompt_twilio_did_not_take(world: World) -> None:
    world.service.perform(SID, "acme", ASK)
    world.effects.refuse_next(NotPerformed("Twilio is down"))

    with pytest.raises(NotPerformed):  # the task fails: the state machine retries it
        world.service.register(SID, ASK.step_id, "token-1")
    world.service.register(SID, ASK.step_id, "token-1")
    assert world.sent() == [("ask/1/prompt", "Yes or no?")]
    assert world.status() == WAITING


def test_conversations_a_prompt_refused_for_good_ends_the_conversation_and_wakes_it(
    world: World,
) -> None:
    refused = EffectResult(StepState.FAILED, "invalid number (Twilio error 21211)")
    world.effects.perform = lambda step, key: refused  # type: ignore[method-assign]
    world.started()

    assert world.status() == "delivery_failed"
    assert world.workflow.woken == [(f"token-{SID}", {"outcome": "delivery_failed"})]
    assert world.store.find_open_conversation("acme", OURS, CONTACT) is None


def test_conversations_a_valid_answer_resolves_the_conversation_and_wakes_it_once(
    world: World,
) -> None:
    world.started()
    routing = world.service.route_reply(reply("yes"))
    redelivered = world.service.route_reply(reply("yes"))

    assert (routing, redelivered) == (ReplyRouting.CONSUMED, ReplyRouting.CONSUMED)
    assert world.status() == "replied"
    conversation = world.store.get(SID, ASK.step_id)
    assert conversation is not None
    assert conversation.attempts == 1  # the redelivery counted nothing
    assert world.workflow.woken == [(f"token-{SID}", {"outcome": "replied"})]
    assert world.store.find_open_conversation("acme", OURS, CONTACT) is None


def test_conversations_a_reply_whose_wake_is_refused_while_the_execution_runs_stays_theirs(
    world: World,
) -> None:
    """The timer ended the race first (its token task is over): the execution is on its way to
    resume and finds the reply's outcome, so the reply runs no trigger."""
    world.started()
    world.workflow.expire(f"token-{SID}")
    assert world.service.route_reply(reply("yes")) is ReplyRouting.CONSUMED
    assert world.status() == "replied"
    assert world.workflow.woken == []


def test_conversations_a_reply_to_a_stopped_execution_runs_the_triggers(world: World) -> None:
    world.started()
    conversation = world.store.get(SID, ASK.step_id)
    assert conversation is not None
    world.workflow.stop(conversation.execution_arn, f"token-{SID}")
    assert world.service.route_reply(reply("yes")) is ReplyRouting.NOT_A_REPLY


def test_conversations_reprompt_an_invalid_answer_then_give_up(world: World) -> None:
    world.started()
    assert world.service.route_reply(reply("maybe", "SM" + "7" * 32)) is ReplyRouting.CONSUMED
    assert world.status() == WAITING
    assert world.service.route_reply(reply("perhaps", "SM" + "8" * 32)) is ReplyRouting.CONSUMED

    assert world.status() == "no_valid_answer"
    assert world.sent() == [
        ("ask/1/prompt", "Yes or no?"),
        ("ask/1/reprompt/1", "Please answer yes or no"),
    ]


def test_conversations_a_message_without_an_open_conversation_is_not_a_reply(world: World) -> None:
    assert world.service.route_reply(reply("yes")) is ReplyRouting.NOT_A_REPLY
    world.started()
    world.service.cancel(SID, ASK.step_id)
    assert world.service.route_reply(reply("yes")) is ReplyRouting.NOT_A_REPLY


def test_conversations_two_answers_at_the_same_moment_resolve_the_conversation_once(
    world: World,
) -> None:
    world.started()
    both = threading.Barrier(2)
    routings: list[ReplyRouting] = []

    def answer(sid: str) -> None:
        both.wait(timeout=10)
        routings.append(world.service.route_reply(reply("yes", sid)))

    threads = [
        threading.Thread(target=answer, args=(sid,)) for sid in ("SM" + "7" * 32, "SM" + "8" * 32)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert sorted(routings) == sorted([ReplyRouting.CONSUMED, ReplyRouting.NOT_A_REPLY])
    conversation = world.store.get(SID, ASK.step_id)
    assert conversation is not None
    assert (conversation.status, conversation.attempts) == ("replied", 1)
    assert len(world.workflow.woken) == 1


def test_conversations_a_newer_conversation_for_the_contact_supersedes_the_older(
    world: World,
) -> None:
    newer_sid = "SM" + "2" * 32
    world.started()
    world.started(sid=newer_sid)

    assert world.status() == "superseded"
    assert world.status(newer_sid) == WAITING
    assert world.workflow.failed == [(f"token-{SID}", "Conversation.Superseded")]
    assert world.service.route_reply(reply("yes")) is ReplyRouting.CONSUMED
    assert world.status(newer_sid) == "replied"


def test_conversations_tick_reminds_when_due_and_times_out_at_the_deadline(world: World) -> None:
    world.started()
    world.now = T0 + timedelta(minutes=10)
    first = world.service.tick(SID, ASK.step_id)
    world.service.tick(SID, ASK.step_id)  # the timer looked twice: one reminder
    assert first["resolved"] is False
    assert first["next_at"] == "2026-12-06T13:00:00Z"

    world.now = T0 + timedelta(hours=1)
    last = world.service.tick(SID, ASK.step_id)
    assert last["resolved"] is True
    assert world.status() == "timeout"
    assert world.sent() == [("ask/1/prompt", "Yes or no?"), ("ask/1/remind/1", "Still there?")]
    assert world.workflow.failed == [(f"token-{SID}", "Conversation.Timeout")]


def test_conversations_tick_holds_a_due_reminder_until_the_prompt_is_sent(world: World) -> None:
    world.service.perform(SID, "acme", ASK)  # registered later: no token, no prompt yet
    world.now = T0 + timedelta(minutes=10)
    held = world.service.tick(SID, ASK.step_id)
    # The prompt is ten minutes late (paced behind a backlog): look again in 30 s, not every
    # second (each look is history events of the execution, which AWS caps at 25,000).
    assert held["next_at"] == "2026-12-06T12:10:30Z"
    assert world.sent() == []


def test_conversations_tick_looks_again_soon_while_the_prompt_is_only_just_due(
    world: World,
) -> None:
    reminded_at_once = replace(ASK, reminders=(ReminderSpec(0, "Still there?"),))
    world.service.perform(SID, "acme", reminded_at_once)  # no token yet: the prompt not sent
    world.now = T0 + timedelta(seconds=3)
    assert world.service.tick(SID, ASK.step_id)["next_at"] == "2026-12-06T12:00:04Z"


def test_conversations_tick_never_looks_again_past_the_deadline_for_a_held_reminder(
    world: World,
) -> None:
    world.service.perform(SID, "acme", ASK)  # the deadline is T0 + 1 h
    world.now = T0 + timedelta(minutes=59, seconds=45)
    assert world.service.tick(SID, ASK.step_id)["next_at"] == "2026-12-06T13:00:00Z"
    assert world.sent() == []


def test_conversations_an_opt_out_ends_the_contacts_conversation(world: World) -> None:
    world.started()
    assert world.service.opt_out(reply("STOP"), "STOP")
    assert world.status() == "opted_out"
    assert world.workflow.failed == [(f"token-{SID}", "Conversation.OptedOut")]
    assert not world.service.opt_out(reply("STOP"), "STOP")  # nothing left to end


def test_conversations_a_failed_prompt_ends_its_conversation_once(world: World) -> None:
    world.started()
    assert world.service.prompt_failed(SID, "ask/1/prompt", "undelivered (30003)")
    assert not world.service.prompt_failed(SID, "ask/1/prompt", "undelivered (30003)")
    assert not world.service.prompt_failed(SID, "ask/1/remind/1", "not a prompt")
    assert world.status() == "delivery_failed"
    assert world.workflow.failed == [(f"token-{SID}", "Conversation.DeliveryFailed")]


def test_conversations_resume_times_out_a_conversation_woken_without_an_outcome(
    world: World,
) -> None:
    world.started()
    resumed = world.service.resume(SID, ASK.step_id, "the token task's ceiling")
    assert resumed.status == "timeout"
    assert resumed.outcome["detail"] == "woken by the token task's ceiling"
    assert world.workflow.failed == []  # nobody to notify: the execution is resuming
    done = world.service.perform(SID, "acme", ASK)  # the replay meets the wait again
    assert (done.status, done.variables["outcome"]) == (OutcomeStatus.DONE, "timeout")
