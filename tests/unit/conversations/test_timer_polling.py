"""When a conversation's timer branch wakes: at the next reminder or the deadline, or sooner
when polling is configured (emulators whose Parallel state waits for every branch)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sms_automation.conversations.model import Conversation
from sms_automation.conversations.service import Conversations
from tests.support.fakes import FakeConversationWorkflow, InMemoryConversationStore

NOW = datetime(2026, 11, 26, 18, 0, 0, 250_000, tzinfo=UTC)


def service(poll_seconds: int) -> Conversations:
    unused: Any = None  # the timer arithmetic touches no store, workflow or port
    return Conversations(
        store=unused, workflow=unused, port_for=unused, clock=lambda: NOW, poll_seconds=poll_seconds
    )


def test_timer_due_is_the_due_time_without_polling() -> None:
    assert service(0)._timer_due("2026-11-27T18:00:00Z") == "2026-11-27T18:00:00Z"


def test_timer_due_is_the_next_poll_when_that_comes_first() -> None:
    assert service(2)._timer_due("2026-11-27T18:00:00Z") == "2026-11-26T18:00:02Z"


@pytest.mark.parametrize("due", ["2026-11-26T18:00:01Z", "2026-11-26T17:00:00Z"])
def test_timer_due_keeps_a_due_time_before_the_next_poll(due: str) -> None:
    assert service(2)._timer_due(due) == due


# --- dozing: where the timer polls, it keeps a token the resolution fails ------------------------


@pytest.mark.parametrize(
    ("poll_seconds", "due", "dozes"),
    [
        (0, "2026-11-27T18:00:00Z", False),  # AWS: the timer sleeps until the due time
        (2, "2026-11-27T18:00:00Z", True),
        (2, "2026-11-26T18:00:02.250000Z", True),  # exactly a doze away
        (2, "2026-11-26T18:00:01Z", False),  # sooner than a doze: sleep to it
        (2, "2026-11-26T17:00:00Z", False),
        (1, "2026-11-27T18:00:00Z", True),
        (60, "2026-11-27T18:00:00Z", False),  # a slower poll than a doze sleeps as set
    ],
)
def test_the_timer_dozes_only_where_it_polls_often_and_the_due_time_is_a_doze_away(
    poll_seconds: int, due: str, dozes: bool
) -> None:
    assert service(poll_seconds)._dozes(due, NOW) is dozes


def with_store(
    status: str,
) -> tuple[Conversations, InMemoryConversationStore, FakeConversationWorkflow]:
    """One conversation whose answer task keeps ``answer-token``, in the in-memory store."""
    store, workflow = InMemoryConversationStore(), FakeConversationWorkflow()
    store.create(
        Conversation(
            message_sid="SM1",
            step_id="ask/1",
            account="acme",
            contact="+14155550101",
            our_number="+15005550006",
            trigger="ask",
            started_at="2026-11-26T18:00:00Z",
            deadline="2026-11-27T18:00:00Z",
            reminders=(),
            prompt="Reply YES",
            reprompt=None,
            status=status,
            task_token="answer-token",
        )
    )
    unused: Any = None
    conversations = Conversations(
        store=store, workflow=workflow, port_for=unused, clock=lambda: NOW, poll_seconds=2
    )
    return conversations, store, workflow


def kept(store: InMemoryConversationStore) -> Conversation:
    conversation = store.get("SM1", "ask/1")
    assert conversation is not None
    return conversation


def test_a_dozing_timer_keeps_its_token_while_the_conversation_is_open() -> None:
    conversations, store, workflow = with_store("waiting")
    conversations.doze("SM1", "ask/1", "timer-token")
    assert kept(store).timer_token == "timer-token"
    assert workflow.failed == []


def test_a_timer_dozing_off_after_the_conversation_resolved_fails_its_own_token_at_once() -> None:
    conversations, _, workflow = with_store("replied")
    conversations.doze("SM1", "ask/1", "timer-token")
    assert workflow.failed == [("timer-token", "Conversation.Resolved")]


def test_waking_the_answer_also_fails_the_dozing_timer_token() -> None:
    conversations, store, workflow = with_store("waiting")
    conversations.doze("SM1", "ask/1", "timer-token")
    assert store.resolve(kept(store), "replied", {"outcome": "replied"}, "2026-11-26T18:00:01Z")
    assert conversations._wake(kept(store)) is True
    assert workflow.woken == [("answer-token", {"outcome": "replied"})]
    assert workflow.failed == [("timer-token", "Conversation.Resolved")]


def test_a_dozing_timer_is_told_by_an_empty_next_at() -> None:
    assert service(2)._next_look("2026-11-27T18:00:00Z") == ""
    assert service(0)._next_look("2026-11-27T18:00:00Z") == "2026-11-27T18:00:00Z"
    assert service(60)._next_look("2026-11-27T18:00:00Z") == "2026-11-26T18:01:00Z"
