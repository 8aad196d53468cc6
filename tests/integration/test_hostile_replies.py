"""Hostile replies to a conversation: the expected-answer pattern never stalls, nothing is lost.

A waiting conversation checks every reply from the contact against its ``expect`` pattern, so a
reply is user input meeting a user regex, like a trigger's condition. Each hostile reply below
is checked (an invalid answer: the reprompt goes out), a valid answer then ends the wait, and
every step ran once. Runs on the conversation world: the real state machine on moto's executor,
the real webhook, processor and wait functions, the Twilio test server over real HTTP.
"""

from __future__ import annotations

import pytest
import yaml

from tests.support.conversation_world import World
from tests.support.hang_guard import run_guarded
from tests.support.stepfunctions import wait_until

pytestmark = pytest.mark.integration

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


@pytest.mark.parametrize("reply", HOSTILE_REPLIES.values(), ids=HOSTILE_REPLIES.keys())
def test_hostile_reply_is_checked_reprompted_and_the_conversation_goes_on(
    world: World, reply: str
) -> None:
    world.push(TRIGGERS)
    origin = world.text("book me")
    world.registered(origin)

    run_guarded(lambda: world.text(reply))
    wait_until(lambda: len(world.bodies()) == 2, what="the reprompt")
    run_guarded(lambda: world.text("ok then yes"))

    assert world.finished(origin) == "SUCCEEDED"
    assert world.bodies() == ["Reply YES to confirm", "Please answer YES", "Thanks", "Bye"]
    conversation = world.conversation(origin)
    assert conversation.status == "replied"
    assert [r.body for r in conversation.replies] == [reply, "ok then yes"]
    assert world.run_status(origin) == "completed"
