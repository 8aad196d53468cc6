"""Conversations end to end in one process: the real state machine definition on moto's
executor, our register/timer/resume handlers for its Lambda tasks, the real trigger processor
on moto's DynamoDB stream, the real status callback, a Twilio-like server on 127.0.0.1 that,
like api.twilio.com, creates a second message for a repeated create.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
import yaml

from functions.status_callback import handler as status_callback
from sms_automation.adapters.conversation_store import DynamoConversationStore
from sms_automation.adapters.conversation_workflow import StepFunctionsConversationWorkflow
from sms_automation.conversations.model import execution_name
from tests.support.aws import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
)
from tests.support.conversation_world import ALICE, BOB, OUR_NUMBER, World
from tests.support.events import signed_webhook_event

pytestmark = pytest.mark.integration


def triggers(wait: dict[str, Any], *, after: str = "Bye") -> str:
    wait_action = {"type": "wait_for_reply", "prompt": "Reply YES to confirm", **wait}
    return yaml.safe_dump(
        {
            "version": 1,
            "triggers": [
                {
                    "name": "ask",
                    "when": {"field": "Body", "starts_with": "book"},
                    "actions": [wait_action, {"type": "send_sms", "body": after}],
                },
                {"name": "echo", "actions": [{"type": "send_sms", "body": "echo %Body%"}]},
            ],
        },
        sort_keys=False,
    )


BRANCHES = {
    "on_reply": [{"type": "send_sms", "body": "Thanks %answer.body%"}],
    "on_timeout": [{"type": "send_sms", "body": "No answer"}],
    "on_delivery_failure": [{"type": "record", "item": {"what": "undelivered"}}],
    "on_no_valid_answer": [{"type": "send_sms", "body": "Giving up after %answer.attempts%"}],
}


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


# --- scenarios ----------------------------------------------------------------------------------


def test_reply_before_timeout_runs_on_reply_then_what_follows(world: World) -> None:
    world.push(triggers({"timeout": "1h", **BRANCHES}))
    origin = world.text("book me")
    assert world.run_status(origin) == "paused"
    world.registered(origin)
    assert world.bodies() == ["Reply YES to confirm"]

    reply = world.text("yes please")

    assert world.finished(origin) == "SUCCEEDED"
    assert world.bodies() == ["Reply YES to confirm", "Thanks yes please", "Bye"]
    assert world.run_status(origin) == "completed"
    assert world.run_status(reply) == "conversation_reply"  # not run through the triggers
    conversation = world.conversation(origin)
    assert conversation.status == "replied"
    assert conversation.execution_arn.endswith(execution_name(origin, "ask/1"))
    assert [r.body for r in conversation.replies] == ["yes please"]


def test_timeout_runs_on_timeout(world: World) -> None:
    world.push(triggers({"timeout": "2s", **BRANCHES}))
    origin = world.text("book me")
    assert world.finished(origin) == "SUCCEEDED"
    assert world.bodies() == ["Reply YES to confirm", "No answer", "Bye"]
    assert world.conversation(origin).status == "timeout"


def test_delivery_failure_of_the_prompt_runs_on_delivery_failure(world: World) -> None:
    world.push(triggers({"timeout": "1h", **BRANCHES}))
    origin = world.text("book me")
    world.registered(origin)
    [prompt] = world.twilio.messages()
    body = urlencode(
        {
            "AccountSid": TEST_ACCOUNT_SID,
            "MessageSid": prompt["sid"],
            "MessageStatus": "undelivered",
            "ErrorCode": "30003",
            "From": OUR_NUMBER,
            "To": ALICE,
        }
    )
    event = signed_webhook_event("acme", body, TEST_AUTH_TOKEN, route="status")
    assert status_callback.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200

    assert world.finished(origin) == "SUCCEEDED"
    assert world.conversation(origin).status == "delivery_failed"
    assert world.bodies() == ["Reply YES to confirm", "Bye"]  # the branch recorded, then Bye
    records = boto3.client("dynamodb").scan(TableName="records-test")["Items"]
    assert [r["what"]["S"] for r in records] == ["undelivered"]


def test_unexpected_answer_is_reprompted_then_a_valid_one_accepted(world: World) -> None:
    wait = {"timeout": "1h", "expect": ["YES", "NO"], "reprompt": "YES or NO?", **BRANCHES}
    world.push(triggers(wait))
    origin = world.text("book me")
    world.registered(origin)

    world.text("maybe")
    assert world.bodies() == ["Reply YES to confirm", "YES or NO?"]
    assert world.conversation(origin).status == "waiting"

    world.text(" No ")
    assert world.finished(origin) == "SUCCEEDED"
    assert world.bodies() == ["Reply YES to confirm", "YES or NO?", "Thanks  No ", "Bye"]


def test_expect_mixing_words_and_patterns_accepts_a_reply_matching_any(world: World) -> None:
    """The stored conversation keeps every entry (words and both patterns, each with its own
    case rule): the reply handler reads it back from the table to decide."""
    expect = ["YES", {"regex": r"^\d{1,2}$"}, {"regex": "^OK$", "case_sensitive": True}]
    wait = {"timeout": "1h", "expect": expect, "reprompt": "YES, OK or a number?", **BRANCHES}
    world.push(triggers(wait))
    origin = world.text("book me")
    world.registered(origin)
    stored = world.conversation(origin)
    assert stored.expect_words == ("YES",)
    assert [(p.regex, p.case_sensitive) for p in stored.expect_patterns] == [
        (r"^\d{1,2}$", False),
        ("^OK$", True),
    ]

    world.text("ok")  # the second pattern is case-sensitive
    world.text("123")
    assert world.conversation(origin).status == "waiting"
    world.text(" 42 ")
    assert world.finished(origin) == "SUCCEEDED"
    assert world.bodies() == [
        "Reply YES to confirm",
        "YES, OK or a number?",
        "YES, OK or a number?",
        "Thanks  42 ",
        "Bye",
    ]


def test_attempts_used_up_runs_on_no_valid_answer(world: World) -> None:
    wait = {"timeout": "1h", "expect": ["YES"], "reprompt": "YES?", "max_attempts": 2}
    world.push(triggers({**wait, **BRANCHES}))
    origin = world.text("book me")
    world.registered(origin)
    world.text("a")
    world.text("b")
    assert world.finished(origin) == "SUCCEEDED"
    assert world.bodies() == ["Reply YES to confirm", "YES?", "Giving up after 2", "Bye"]
    assert world.conversation(origin).status == "no_valid_answer"


def test_two_replies_resolve_the_conversation_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two replies at the same moment: the second one's Lambda read the contact's open
    conversation (eventually consistent) and the conversation (still waiting) before the first
    one's transaction landed; the transaction lets one count, the other is refused, looked at
    again and run through the triggers as a new message.

    Staged, not threaded: the second reply is handed the reads it made before the first won
    (moto's in-process DynamoDB does not isolate concurrent transactions: its transaction
    copies the table while another thread writes to it). For the same reason the second reply
    comes once the execution the first one resumed is over: it writes from moto's executor
    thread, and would read the stale copies too."""
    world.push(triggers({"timeout": "1h", **BRANCHES}))
    origin = world.text("book me")
    waiting = world.registered(origin)
    store = DynamoConversationStore(world.table, boto3.client("dynamodb"))
    pointer = store.find_open_conversation(waiting.account, waiting.our_number, waiting.contact)
    assert pointer is not None
    world.text("first")
    assert world.finished(origin) == "SUCCEEDED"

    stale_left = {"pointer": pointer, "conversation": waiting}
    taken: list[str] = []
    counted: list[bool] = []
    real_find, real_get = (
        DynamoConversationStore.find_open_conversation,
        DynamoConversationStore.get,
    )
    real_record = DynamoConversationStore.record_reply

    def stale_once(name: str, current: Any) -> Any:
        if name not in stale_left:
            return current
        taken.append(name)
        return stale_left.pop(name)

    def find_stale(self: DynamoConversationStore, *args: Any, **kwargs: Any) -> Any:
        current = real_find(self, *args, **kwargs)
        return current if kwargs.get("consistent", True) else stale_once("pointer", current)

    def get_stale(self: DynamoConversationStore, sid: str, step: str) -> Any:
        current = real_get(self, sid, step)
        return stale_once("conversation", current) if (sid, step) == (origin, "ask/1") else current

    def record_seen(self: DynamoConversationStore, *args: Any, **kwargs: Any) -> bool:
        counted.append(won := real_record(self, *args, **kwargs))
        return won

    monkeypatch.setattr(DynamoConversationStore, "find_open_conversation", find_stale)
    monkeypatch.setattr(DynamoConversationStore, "get", get_stale)
    monkeypatch.setattr(DynamoConversationStore, "record_reply", record_seen)
    second = world.text("second")

    assert taken == ["pointer", "conversation"]  # the second reply read what the first one had
    assert counted == [False]  # ... and its transaction was refused
    assert world.run_status(second) == "completed"  # a new message: run through the triggers
    assert world.finished(origin) == "SUCCEEDED"
    assert [r.body for r in world.conversation(origin).replies] == ["first"]
    # Each SMS is sent once: the prompt, the first reply's branch, then the echo of the second.
    assert world.bodies() == ["Reply YES to confirm", "Thanks first", "Bye", "echo second"]


def test_reply_after_timeout_is_a_new_message(world: World) -> None:
    world.push(triggers({"timeout": "1s", **BRANCHES}))
    origin = world.text("book me")
    assert world.finished(origin) == "SUCCEEDED"
    late = world.text("yes")
    assert world.run_status(late) == "completed"
    assert world.bodies()[-1] == "echo yes"


def test_two_contacts_waiting_at_once(world: World) -> None:
    world.push(triggers({"timeout": "1h", **BRANCHES}))
    alice, bob = world.text("book A", ALICE), world.text("book B", BOB)
    world.registered(alice)
    world.registered(bob)
    world.text("from bob", BOB)
    assert world.finished(bob) == "SUCCEEDED"
    assert world.conversation(alice).status == "waiting"
    world.text("from alice", ALICE)
    assert world.finished(alice) == "SUCCEEDED"
    assert world.bodies(ALICE) == ["Reply YES to confirm", "Thanks from alice", "Bye"]
    assert world.bodies(BOB) == ["Reply YES to confirm", "Thanks from bob", "Bye"]


def test_a_conversation_inside_a_branch_is_a_second_one(world: World) -> None:
    nested = {
        "type": "wait_for_reply",
        "prompt": "And your name, %answer.body%?",
        "into": "name",
        "timeout": "1h",
        "on_reply": [{"type": "send_sms", "body": "See you, %name.body%"}],
    }
    world.push(triggers({"timeout": "1h", "on_reply": [nested]}))
    origin = world.text("book me")
    world.registered(origin)
    world.text("yes")
    world.registered(origin, "ask/1/on_reply/1")
    assert world.finished(origin) == "SUCCEEDED"
    assert world.run_status(origin) == "paused"
    world.text("Jo")
    assert world.finished(origin, "ask/1/on_reply/1") == "SUCCEEDED"
    assert world.bodies() == ["Reply YES to confirm", "And your name, yes?", "See you, Jo", "Bye"]
    assert world.run_status(origin) == "completed"


def test_a_reminder_is_sent_while_nobody_answers(world: World) -> None:
    remind = [{"after": "1s", "text": "Still there?"}]
    world.push(triggers({"timeout": "3s", "remind": remind, **BRANCHES}))
    origin = world.text("book me")
    assert world.finished(origin) == "SUCCEEDED"
    assert world.bodies() == ["Reply YES to confirm", "Still there?", "No answer", "Bye"]


def test_no_reminder_once_the_answer_came(world: World) -> None:
    # Far enough ahead that a slow machine still answers first: the timer branch must then be
    # stopped asleep (the execution ends) and never send it.
    remind = [{"after": "60s", "text": "Still there?"}]
    world.push(triggers({"timeout": "1h", "remind": remind, **BRANCHES}))
    origin = world.text("book me")
    world.registered(origin)
    world.text("yes")
    assert world.finished(origin) == "SUCCEEDED"
    assert world.lambdas.invoked("conversation-timer") == []  # the timer branch was stopped asleep
    assert world.bodies() == ["Reply YES to confirm", "Thanks yes", "Bye"]


def test_an_absolute_deadline(world: World) -> None:
    world.push(triggers({"until": later(2), **BRANCHES}))
    origin = world.text("book me")
    conversation = world.registered(origin)
    assert conversation.deadline == later(2).replace("+00:00", "Z") or conversation.deadline
    assert world.finished(origin) == "SUCCEEDED"
    assert world.bodies() == ["Reply YES to confirm", "No answer", "Bye"]


def test_resume_failing_once_is_retried_without_resending_anything(world: World) -> None:
    world.push(triggers({"timeout": "1h", **BRANCHES}))
    origin = world.text("book me")
    world.registered(origin)
    world.lambdas.fail_next["conversation-resume"] = 1
    world.text("yes")
    assert world.finished(origin) == "SUCCEEDED"
    assert len(world.lambdas.invoked("conversation-resume")) == 2
    assert len(world.lambdas.invoked("conversation-register")) == 1
    assert world.bodies() == ["Reply YES to confirm", "Thanks yes", "Bye"]


def test_a_redelivered_origin_starts_no_second_execution(world: World) -> None:
    world.push(triggers({"timeout": "1h", **BRANCHES}))
    world.receive("book me")
    records = world.stream.inserts_of_inbound_messages()
    world.deliver(records)
    origin = records[0]["dynamodb"]["NewImage"]["message_sid"]["S"]
    world.registered(origin)
    world.deliver(records)
    sfn = boto3.client("stepfunctions")
    assert len(sfn.list_executions(stateMachineArn=world.state_machine_arn)["executions"]) == 1
    assert world.bodies() == ["Reply YES to confirm"]


def test_a_reply_whose_wake_is_refused_while_the_execution_runs_is_still_the_conversations(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timer ended the race first (a reminder or the deadline at the same instant as the
    reply), so the token task is over and the wake is refused; the execution still resumes and
    finds the reply's outcome. The reply must not also run the triggers (no "echo yes")."""
    world.push(triggers({"timeout": "3s", **BRANCHES}))
    origin = world.text("book me")
    world.registered(origin)
    monkeypatch.setattr(
        StepFunctionsConversationWorkflow, "wake", lambda self, token, output: False
    )

    world.text("yes")

    assert world.finished(origin) == "SUCCEEDED"
    assert world.conversation(origin).status == "replied"
    assert world.bodies() == ["Reply YES to confirm", "Thanks yes", "Bye"]


def test_a_reply_to_a_conversation_whose_execution_was_stopped_runs_the_triggers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody will carry a stopped execution's conversation on: the reply is a new message."""
    world.push(triggers({"timeout": "1h", **BRANCHES}))
    origin = world.text("book me")
    world.registered(origin)
    boto3.client("stepfunctions").stop_execution(
        executionArn=world.conversation(origin).execution_arn, error="Operator.Stopped"
    )
    # What AWS answers for a stopped execution: its token is refused (TaskTimedOut) and it is
    # ABORTED. moto's executor accepts the token and keeps saying RUNNING.
    monkeypatch.setattr(
        StepFunctionsConversationWorkflow, "wake", lambda self, token, output: False
    )
    monkeypatch.setattr(StepFunctionsConversationWorkflow, "running", lambda self, arn: False)

    world.text("yes")

    assert world.bodies() == ["Reply YES to confirm", "echo yes"]
