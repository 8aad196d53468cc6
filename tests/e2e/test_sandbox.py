"""The stack with the Twilio sandbox, end to end: a signed inbound SMS runs the demo triggers
on the deployed stack, which sends through the sandbox; the sandbox's signed status callbacks
come back through the status-callback route."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sms_automation_local.state import LocalState
from sms_automation_local.twilio_sandbox_client import list_resources
from tests.e2e.conftest import sms_automation
from tests.e2e.polling import wait_for
from tests.e2e.texting import AUTO_REPLY, replies_to, send

pytestmark = pytest.mark.e2e


def test_inbound_sms_gets_the_auto_reply_through_the_sandbox(local_stack: LocalState) -> None:
    contact = "+15005550101"

    send(local_stack, contact, "Hello there")

    reply = wait_for("the auto-reply", lambda: next(iter(replies_to(local_stack, contact)), None))
    assert reply["body"] == AUTO_REPLY
    assert reply["from"] == local_stack.demo_number


def test_sandbox_cli_lists_what_the_application_sent(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    contact = "+15005550103"
    send(local_stack, contact, "CALL")
    wait_for(
        "the call", lambda: list_resources(local_stack.sandbox_url, "Calls", To=contact) or None
    )
    wait_for("the text", lambda: replies_to(local_stack, contact) or None)

    messages = sms_automation(cli_env, "sandbox", "messages", "--to", contact, "--json")
    calls = sms_automation(cli_env, "sandbox", "calls", "--to", contact, "--json")

    assert messages.returncode == calls.returncode == 0, messages.stderr + calls.stderr
    [sent] = [json.loads(line) for line in messages.stdout.splitlines()]
    assert (sent["to"], sent["from"], sent["body"]) == (
        contact,
        local_stack.demo_number,
        "Calling you now.",
    )
    assert sent["sid"].startswith("SM")
    [call] = [json.loads(line) for line in calls.stdout.splitlines()]
    assert (call["to"], call["sid"][:2]) == (contact, "CA")


def test_duplicate_delivery_gets_one_reply(local_stack: LocalState) -> None:
    contact = "+15005550102"
    sid = send(local_stack, contact, "twice")
    send(local_stack, contact, "twice", message_sid=sid)  # Twilio retries with the same SID
    send(local_stack, contact, "then another")  # a later message: its reply marks "all done"

    wait_for("both replies", lambda: replies_to(local_stack, contact)[1:] or None)

    assert len(replies_to(local_stack, contact)) == 2


def test_keyword_places_a_call_with_the_expected_twiml(local_stack: LocalState) -> None:
    contact = "+15005550103"

    send(local_stack, contact, "CALL")

    call = wait_for(
        "the call",
        lambda: next(iter(list_resources(local_stack.sandbox_url, "Calls", To=contact)), None),
    )
    assert call["from"] == local_stack.demo_number
    twiml = wait_for("the call's TwiML", lambda: _twiml_of(local_stack, call["sid"]))
    assert "<Say>Hello from the demo. Connecting you to our support line.</Say>" in twiml
    assert f'<Dial callerId="{local_stack.demo_number}" timeout="20">' in twiml
    assert "<Number>+15005550020</Number>" in twiml


def _twiml_of(stack: LocalState, call_sid: str) -> str | None:
    import requests

    conversation = requests.get(
        f"{stack.simulator_url}/api/conversation", params={"contact": "+15005550103"}, timeout=10
    ).json()
    for call in conversation["calls"]:
        if call["sid"] == call_sid:
            twiml: str | None = call["twiml"]
            return twiml
    return None


def test_status_callbacks_mark_the_reply_delivered(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    contact = "+15005550104"
    sid = send(local_stack, contact, "status please")

    def delivered() -> dict[str, Any] | None:
        shown = sms_automation(cli_env, "messages", "show", sid, "--format", "json")
        assert shown.returncode == 0, shown.stderr
        steps = json.loads(shown.stdout)["action_log"]["steps"]
        deliveries = [s.get("delivery") for s in steps if s.get("delivery")]
        return next((d for d in deliveries if d["status"] == "delivered"), None)

    delivery = wait_for("the reply's delivered status", delivered)
    assert [h["status"] for h in delivery["history"]][-1] == "delivered"
    reply = replies_to(local_stack, contact)[0]
    assert reply["status"] == "delivered"


def test_unreachable_number_ends_undelivered_with_its_error_code(
    local_stack: LocalState,
) -> None:
    contact = "+15005550404"  # the sandbox's documented "unreachable" number

    send(local_stack, contact, "are you there?")

    def ended() -> dict[str, Any] | None:
        replies = replies_to(local_stack, contact)
        return replies[0] if replies and replies[0]["status"] == "undelivered" else None

    reply = wait_for("the undelivered status", ended)
    assert reply["error_code"] == 30003
