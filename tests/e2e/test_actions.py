"""The AWS actions on the local stack (issue 17): the demo's EMAIL keyword forwards the message
by e-mail through the emulator's SES, once, and the phone simulator's page API lists it; its
LOOKUP keyword invokes the demo function (the result feeds the reply) and publishes an event,
each once though Twilio delivers the message twice."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sms_automation_local.state import LocalState
from tests.e2e.polling import wait_for
from tests.e2e.stack_records import settled
from tests.e2e.texting import replies_to, send

pytestmark = pytest.mark.e2e


def emails_about(stack: LocalState, contact: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{stack.sandbox_url}/simulator/api/emails", timeout=10)
    answer.raise_for_status()
    return [m for m in answer.json()["emails"] if m["subject"] == f"SMS from {contact}"]


def test_an_sms_forwarded_by_email_arrives_once_and_the_simulator_lists_it(
    local_stack: LocalState,
) -> None:
    contact = "+15005550301"
    body = "email <b>Call me</b> back"
    sid = send(local_stack, contact, body)
    send(local_stack, contact, body, message_sid=sid)  # Twilio retries with the same SID

    reply = wait_for("the reply after the e-mail", lambda: replies_to(local_stack, contact) or None)
    [mail] = wait_for("the e-mail", lambda: emails_about(local_stack, contact) or None)

    assert reply[0]["body"] == "Forwarded to the desk by e-mail."
    assert (mail["from"], mail["to"], mail["text"]) == (
        "bot@demo.example.com",
        ["desk@demo.example.com"],
        body,
    )
    # Counted once the message is settled (its evaluation finished, no step running): the
    # retry's path is over by then, and nothing more can send.
    steps = wait_for("the action log, settled", lambda: _steps(local_stack, contact, 2))
    assert [(s["kind"], s["state"]) for s in steps] == [
        ("send_email", "done"),
        ("send_sms", "done"),
    ]
    assert len(emails_about(local_stack, contact)) == 1  # the retry sent nothing more
    assert len(replies_to(local_stack, contact)) == 1


def test_a_function_s_result_feeds_the_reply_and_an_event_is_published_once(
    local_stack: LocalState,
) -> None:
    contact = "+15005550302"
    sid = send(local_stack, contact, "lookup order 42")
    send(local_stack, contact, "lookup order 42", message_sid=sid)  # Twilio's retry

    [reply] = wait_for("the reply", lambda: replies_to(local_stack, contact) or None)

    assert reply["body"] == "The function answered: lookup order 42"
    steps = wait_for("the action log", lambda: _steps(local_stack, contact, 3))
    assert [(s["kind"], s["state"]) for s in steps] == [
        ("invoke_lambda", "done"),
        ("publish_event", "done"),
        ("send_sms", "done"),
    ]
    assert len(replies_to(local_stack, contact)) == 1


def _steps(stack: LocalState, contact: str, count: int) -> list[dict[str, Any]] | None:
    """The action log's ``count`` steps of the contact's one message, once it is settled."""
    answer = requests.get(
        f"{stack.sandbox_url}/simulator/api/stack",
        params={"contact": contact, "number": stack.demo_number},
        timeout=10,
    )
    answer.raise_for_status()
    messages = answer.json()["messages"]
    if len(messages) != 1 or not settled(messages[0]):
        return None
    steps: list[dict[str, Any]] = messages[0]["action_log"]["steps"]
    return steps if len(steps) == count else None
