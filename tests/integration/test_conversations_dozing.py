"""Where the timer polls (``CONVERSATION_POLL_SECONDS`` > 0, as on the local emulator), it dozes
in a task whose token the conversation's resolution fails: the execution goes on at once, not
at the timer's next look. The real state machine on moto's executor (``world``)."""

from __future__ import annotations

import os

import pytest

from sms_automation.adapters.conversation_workflow import StepFunctionsConversationWorkflow
from sms_automation.composition.runtime import Runtime
from tests.integration.test_conversations import BRANCHES, triggers
from tests.support.aws import clear_cached_dependencies
from tests.support.conversation_world import HANDLER_MODULES, World
from tests.support.stepfunctions import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def polling(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("CONVERSATION_POLL_SECONDS", "2")
    for module in HANDLER_MODULES:
        clear_cached_dependencies(module)
    return world


def timer_calls(world: World) -> list[dict[str, object]]:
    return [event for name, event in world.lambdas.calls if name == "conversation-timer"]


def dozing(world: World) -> None:
    wait_until(
        lambda: any("doze_token" in event for event in timer_calls(world)),
        what="the timer to doze",
    )


@pytest.fixture
def failed_tokens(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(token, error) of every SendTaskFailure our code makes, as it goes to Step Functions."""
    failed: list[tuple[str, str]] = []
    real = StepFunctionsConversationWorkflow.fail

    def recording(
        self: StepFunctionsConversationWorkflow, token: str, error: str, cause: str
    ) -> bool:
        failed.append((token, error))
        return real(self, token, error, cause)

    monkeypatch.setattr(StepFunctionsConversationWorkflow, "fail", recording)
    return failed


def test_a_reply_fails_the_dozing_timer_token_so_the_timer_ends_at_once(
    polling: World, failed_tokens: list[tuple[str, str]]
) -> None:
    """(moto's Parallel, like AWS's, stops the timer branch when the token branch fails: the
    wake matters on an emulator whose Parallel waits for every branch, ``make run``'s.)"""
    polling.push(triggers({"timeout": "1h", **BRANCHES}))
    origin = polling.text("book me")
    polling.registered(origin)
    dozing(polling)

    polling.text("yes")

    assert polling.finished(origin) == "SUCCEEDED"
    assert polling.bodies() == ["Reply YES to confirm", "Thanks yes", "Bye"]
    timer_token = polling.conversation(origin).timer_token
    assert timer_token
    assert failed_tokens.count((timer_token, "Conversation.Resolved")) == 1


def test_a_dozing_timer_still_sends_reminders_and_times_the_conversation_out(
    polling: World, failed_tokens: list[tuple[str, str]]
) -> None:
    wait = {"timeout": "5s", "remind": [{"after": "3s", "text": "Still there?"}]}
    polling.push(triggers({**wait, **BRANCHES}))
    origin = polling.text("book me")
    assert polling.finished(origin) == "SUCCEEDED"
    assert polling.bodies() == ["Reply YES to confirm", "Still there?", "No answer", "Bye"]
    assert any("doze_token" in event for event in timer_calls(polling))
    # The timer ended the wait itself: its own (spent) token is not failed (``by_timer``).
    timer_token = polling.conversation(origin).timer_token
    assert timer_token
    assert (timer_token, "Conversation.Resolved") not in failed_tokens


def test_a_cancel_while_the_timer_dozes_ends_the_execution(
    polling: World, failed_tokens: list[tuple[str, str]]
) -> None:
    polling.push(triggers({"timeout": "1h", **BRANCHES}))
    origin = polling.text("book me")
    polling.registered(origin)
    dozing(polling)

    assert Runtime.from_environ(os.environ).conversations.cancel(origin, "ask/1")
    assert polling.finished(origin) == "SUCCEEDED"
    assert polling.conversation(origin).status == "cancelled"
    assert polling.bodies() == ["Reply YES to confirm"]  # a cancelled wait stops its run
    assert polling.run_status(origin) == "stopped"
    assert (polling.conversation(origin).timer_token, "Conversation.Resolved") in failed_tokens
