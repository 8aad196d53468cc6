"""Hostile replies to a conversation: the expected-answer pattern never stalls, nothing is lost.

A waiting conversation checks every reply from the contact against its ``expect`` pattern, so a
reply is user input meeting a user regex, like a trigger's condition. Each hostile reply below
is checked (an invalid answer: the reprompt goes out), a valid answer then ends the wait, and
every step ran once. Runs on the conversation world: the real state machine on moto's executor,
the real webhook, processor and wait functions, the Twilio test server over real HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.support.conversation_world import World
from tests.support.stepfunctions import wait_until

pytestmark = pytest.mark.integration

HANG_GUARD_SECONDS = 60.0
"""Far above any sane evaluation (milliseconds); only a stalled pipeline reaches it."""

HOSTILE_REPLIES = {
    "nested-repeat-1600": "x" * 1_600,
    "bounded-group-near-miss": "aaaa bbbb cccc dddd eee!",
    "control-and-markup": "\x01\x1b[2J<Say>x</Say> %answer.body% \u202e",
    "long-unicode": ("Привет 👩🏽‍⚕️ café " * 100)[:1_600],
}

TRIGGERS = yaml.safe_dump(
    {
        "version": 1,
        "triggers": [
            {
                "name": "ask",
                "when": {"field": "Body", "starts_with": "book"},
                "actions": [
                    {
                        "type": "wait_for_reply",
                        "prompt": "Reply YES to confirm",
                        "timeout": "1h",
                        # Exponential on a backtracking engine for a run of x's with no y.
                        "expect": {"regex": r"^(?:(x+x+)+y|(\w+\s?){1,3}yes)$"},
                        "reprompt": "Please answer YES",
                        "max_attempts": 3,
                        "on_reply": [
                            {"type": "send_sms", "body": "Thanks"},
                            {"type": "record", "item": {"answer": "%answer.body%"}},
                        ],
                    },
                    {"type": "send_sms", "body": "Bye"},
                ],
            }
        ],
    },
    sort_keys=False,
)


def _guarded(action: Callable[[], Any]) -> Any:
    """``action()`` in a thread, failing the test if it has not returned by the hang guard."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as error:  # re-raised below, in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD_SECONDS)
    assert not thread.is_alive(), f"the pipeline stalled (> {HANG_GUARD_SECONDS:.0f} s)"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.mark.parametrize("reply", HOSTILE_REPLIES.values(), ids=HOSTILE_REPLIES.keys())
def test_hostile_reply_is_checked_reprompted_and_the_wait_goes_on(world: World, reply: str) -> None:
    world.push(TRIGGERS)
    origin = world.text("book me")
    world.registered(origin)

    _guarded(lambda: world.text(reply))
    wait_until(lambda: len(world.bodies()) == 2, what="the reprompt")
    _guarded(lambda: world.text("ok then yes"))

    assert world.finished(origin) == "SUCCEEDED"
    assert world.bodies() == ["Reply YES to confirm", "Please answer YES", "Thanks", "Bye"]
    conversation = world.conversation(origin)
    assert conversation.status == "replied"
    assert [r.body for r in conversation.replies] == [reply, "ok then yes"]
    assert world.run_status(origin) == "completed"
