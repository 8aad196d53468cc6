"""Pacing and quiet hours on the deployed stack, measured by what the Twilio sandbox received:
a burst of auto-replies from one sender goes out at its configured rate (the outbox's
timestamps), each once; an account whose send window opens in about a minute answers a
message sent before it only once the window is open. Each test has an account, a number and
contacts of its own, so the demo's sender is not slowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from sms_automation.processing.pacing import Limits
from sms_automation_local.demo import DEMO_AUTH_TOKEN
from sms_automation_local.inbound_sms import deliver, inbound_sms_form
from sms_automation_local.state import LocalState
from sms_automation_local.twilio_sandbox_client import list_resources
from tests.e2e.conftest import sms_automation
from tests.e2e.polling import wait_for

pytestmark = pytest.mark.e2e

TRIGGERS = """
version: 1
triggers:
  - name: answer
    actions:
      - type: send_sms
        body: "Got it: %Body%"
"""
RATE = 2.0  # segments a second, set for the paced account's number


def add_account(
    stack: LocalState, cli_env: dict[str, str], name: str, folder: Path, *settings: str
) -> None:
    added = sms_automation(
        cli_env,
        "accounts",
        "add",
        name,
        "--account-sid",
        stack.demo_account_sid,
        "--auth-token-stdin",
        stdin=DEMO_AUTH_TOKEN + "\n",
    )
    assert added.returncode == 0, added.stderr
    triggers = folder / f"{name}.yaml"
    triggers.write_text(TRIGGERS, encoding="utf-8")
    pushed = sms_automation(cli_env, "triggers", "push", name, str(triggers))
    assert pushed.returncode == 0, pushed.stderr
    changed = sms_automation(cli_env, "accounts", "set", name, *settings)
    assert changed.returncode == 0, changed.stderr


def text(stack: LocalState, account: str, contact: str, our_number: str, body: str) -> None:
    form = inbound_sms_form(
        account_sid=stack.demo_account_sid, from_number=contact, to_number=our_number, body=body
    )
    delivery = deliver(stack.messaging_request_url(account), form, DEMO_AUTH_TOKEN)
    assert delivery.status == 200, delivery


def sent_from(stack: LocalState, sender: str) -> list[dict[str, Any]]:
    return [
        m
        for m in list_resources(stack.sandbox_url, "Messages", From=sender)
        if m["direction"] == "outbound-api"
    ]


def created(message: dict[str, Any]) -> datetime:
    return parsedate_to_datetime(message["date_created"])


def test_a_burst_of_replies_goes_out_at_the_senders_configured_rate(
    local_stack: LocalState, cli_env: dict[str, str], tmp_path: Path
) -> None:
    our_number = "+15005550186"
    add_account(local_stack, cli_env, "paced", tmp_path, "--send-rate", f"{our_number}={RATE:g}")
    contacts = [f"+155512300{n:02d}" for n in range(12)]

    for n, contact in enumerate(contacts):  # a burst: every message at once
        text(local_stack, "paced", contact, our_number, f"hello {n}")

    def all_sent() -> list[dict[str, Any]] | None:
        sent = sent_from(local_stack, our_number)
        return sent if len(sent) >= len(contacts) else None

    sent = wait_for("every reply", all_sent)
    assert sorted(m["to"] for m in sent) == contacts  # each contact answered once
    times = sorted(created(m) for m in sent)
    limits = Limits(RATE)
    allowance = limits.burst + limits.overdraft  # a burst of replies may use both at once
    for i, start in enumerate(times):  # the sandbox stamps whole seconds: one second of slack
        for j in range(i, len(times)):
            seconds = (times[j] - start).total_seconds() + 1
            assert j - i + 1 <= RATE * seconds + allowance, (i, j, times)
    assert times[-1] - times[0] >= timedelta(seconds=(len(times) - allowance) / RATE - 1)


def test_quiet_hours_defer_a_reply_into_the_window(
    local_stack: LocalState, cli_env: dict[str, str], tmp_path: Path
) -> None:
    our_number, contact = "+15005550187", "+15551230100"
    now = datetime.now(UTC)
    opens = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)  # in 0-60 s
    if opens - now < timedelta(seconds=10):  # time to add the account and text it first
        opens += timedelta(minutes=1)
    window = f"{opens:%H:%M}-{opens - timedelta(hours=1):%H:%M}"  # quiet for the hour before
    add_account(local_stack, cli_env, "quiet", tmp_path, "--send-hours", window)

    text(local_stack, "quiet", contact, our_number, "are you open?")

    [reply] = wait_for(
        "the reply, once the window is open", lambda: sent_from(local_stack, our_number) or None
    )
    assert reply["to"] == contact
    assert created(reply) >= opens  # not before the window
    assert reply["body"] == "Got it: are you open?"
