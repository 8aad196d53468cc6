"""Inbound SMS end to end: real HTTP to the deployed template on the emulator, our real Lambda
code behind API Gateway, DynamoDB and Secrets Manager; results read with the real CLI."""

from __future__ import annotations

import json

import pytest

from sms_automation_local.demo import DEMO_AUTH_TOKEN, DEMO_CONTACT
from sms_automation_local.inbound_sms import deliver, inbound_sms_form
from sms_automation_local.state import LocalState
from tests.e2e.conftest import sms_automation

pytestmark = pytest.mark.e2e

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def demo_form(stack: LocalState, body: str) -> list[tuple[str, str]]:
    return inbound_sms_form(
        account_sid=stack.demo_account_sid,
        from_number=DEMO_CONTACT,
        to_number=stack.demo_number,
        body=body,
    )


def stored(cli_env: dict[str, str], message_sid: str) -> dict[str, object] | None:
    shown = sms_automation(cli_env, "messages", "show", message_sid)
    if shown.returncode != 0:
        assert "no message" in shown.stderr, shown.stderr
        return None
    message: dict[str, object] = json.loads(shown.stdout)
    return message


def test_signed_inbound_sms_is_answered_with_empty_twiml_and_stored(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    form = demo_form(local_stack, "Hello from the e2e tests ✅")
    url = local_stack.messaging_request_url(local_stack.demo_account)

    delivery = deliver(url, form, DEMO_AUTH_TOKEN)

    assert (delivery.status, delivery.body) == (200, EMPTY_TWIML), delivery
    assert delivery.content_type.startswith("text/xml")
    message = stored(cli_env, delivery.message_sid)
    assert message is not None
    assert message["body"] == "Hello from the e2e tests ✅"
    assert message["from_number"] == DEMO_CONTACT
    assert message["account"] == local_stack.demo_account


def test_forged_signature_is_refused_and_nothing_is_stored(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    form = demo_form(local_stack, "forged")
    url = local_stack.messaging_request_url(local_stack.demo_account)

    delivery = deliver(url, form, "0" * 32)  # signed with the wrong token

    assert delivery.status == 403, delivery
    assert stored(cli_env, delivery.message_sid) is None


def test_duplicate_delivery_is_answered_twice_and_stored_once(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    form = demo_form(local_stack, "delivered twice")
    url = local_stack.messaging_request_url(local_stack.demo_account)

    first = deliver(url, form, DEMO_AUTH_TOKEN)
    again = deliver(url, form, DEMO_AUTH_TOKEN)  # Twilio retries with the same MessageSid

    assert (first.status, again.status) == (200, 200)
    listed = sms_automation(cli_env, "messages", "list", "--account", "demo", "--json")
    assert listed.returncode == 0, listed.stderr
    sids = [json.loads(line)["message_sid"] for line in listed.stdout.splitlines()]
    assert sids.count(first.message_sid) == 1


def test_unknown_account_is_404(local_stack: LocalState) -> None:
    form = demo_form(local_stack, "to nobody")

    delivery = deliver(local_stack.messaging_request_url("nobody"), form, DEMO_AUTH_TOKEN)

    assert delivery.status == 404, delivery


def test_simulate_sms_command_delivers_to_the_demo_account(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    sent = sms_automation(
        cli_env, "simulate", "sms", "--from", DEMO_CONTACT, "--body", "via the CLI", "--json"
    )

    assert sent.returncode == 0, sent.stderr
    result = json.loads(sent.stdout)
    assert result["status"] == 200
    assert result["url"] == local_stack.messaging_request_url(local_stack.demo_account)
    message = stored(cli_env, result["message_sid"])
    assert message is not None
    assert message["body"] == "via the CLI"
    assert message["to_number"] == local_stack.demo_number


def test_local_status_json_reports_ready_with_the_urls(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    status = sms_automation(cli_env, "local", "status", "--json")

    assert status.returncode == 0, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["ready"] is True
    assert [check["name"] for check in report["checks"]] == [
        "emulator",
        "stack",
        "demo account",
        "webhook",
        "twilio sandbox",
    ]
    assert report["endpoint_url"] == local_stack.endpoint_url
    assert report["sandbox_url"] == local_stack.sandbox_url
    assert report["simulator_url"] == f"{local_stack.sandbox_url}/simulator"
    assert report["automations_api_url"] == local_stack.automations_api_url
    assert "/_aws/execute-api/" in report["automations_api_url"]
    console = {"url": local_stack.console_url, "email": "admin@example.com"}
    assert report["console"] == (console if local_stack.console_url else None)
    assert report["demo"] == {
        "account": "demo",
        "account_sid": local_stack.demo_account_sid,
        "number": local_stack.demo_number,
        "messaging_request_url": local_stack.messaging_request_url("demo"),
    }
