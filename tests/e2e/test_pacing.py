"""Pacing and quiet hours on the deployed stack, judged by what the Twilio sandbox received and
what the stack recorded (each message's action log, read from its table): a burst of
auto-replies from one sender answers each contact once, and what the sender's rate could not
have sent at once was deferred to a later attempt; an account whose send window opens about a
minute after a text (sent before it opens) defers its reply and sends it once the window is
open. Each test has an account, a number and contacts of its own, so the demo's sender is not
slowed. The rate itself (sends a second, as Twilio saw them) is measured in bench/, not
asserted here."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from sms_automation.processing.pacing import Limits
from sms_automation_local.demo import DEMO_AUTH_TOKEN
from sms_automation_local.state import LocalState
from sms_automation_local.twilio_sandbox_client import list_resources
from tests.e2e.conftest import sms_automation
from tests.e2e.polling import wait_for
from tests.e2e.stack_records import moment, settled, stored_messages
from tests.e2e.texting import send

pytestmark = pytest.mark.e2e

TRIGGERS = """
version: 1
triggers:
  - name: answer
    actions:
      - type: send_sms
        body: "Got it: %Body%"
"""
RATE = 0.2  # segments a second, set for the paced account's number: see the burst test
BURST = 12  # texts to the paced number at once
LEAD = timedelta(seconds=40)  # from setting the window to its opening: the text goes in first


def add_account(stack: LocalState, cli_env: dict[str, str], name: str, folder: Path) -> None:
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


def set_account(cli_env: dict[str, str], name: str, *settings: str) -> None:
    changed = sms_automation(cli_env, "accounts", "set", name, *settings)
    assert changed.returncode == 0, changed.stderr


def sent_from(stack: LocalState, sender: str) -> list[dict[str, Any]]:
    return [
        m
        for m in list_resources(stack.sandbox_url, "Messages", From=sender)
        if m["direction"] == "outbound-api"
    ]


def created(message: dict[str, Any]) -> datetime:
    return parsedate_to_datetime(message["date_created"])


def answered(stack: LocalState, account: str, contact: str) -> dict[str, Any] | None:
    """The contact's one message to ``account``, once the stack has finished with it."""
    stored = stored_messages(stack, account, contact)
    return stored[0] if len(stored) == 1 and settled(stored[0]) else None


def deferred(message: dict[str, Any]) -> bool:
    """Its evaluation ran again (a deferral comes back as a new attempt of the same message)."""
    return int(message["action_log"]["evaluation"]["attempts"]) >= 2


def send_step(message: dict[str, Any]) -> dict[str, Any]:
    [step] = [s for s in message["action_log"]["steps"] if s["kind"] == "send_sms"]
    assert step["state"] == "done", step
    return step


def test_a_burst_of_replies_is_paced_by_deferring_what_the_rate_cannot_send_now(
    local_stack: LocalState, cli_env: dict[str, str], tmp_path: Path
) -> None:
    our_number = "+15005550186"
    add_account(local_stack, cli_env, "paced", tmp_path)
    # Set before any text: no function has read (and cached, for 30 s) the new account yet.
    set_account(cli_env, "paced", "--send-rate", f"{our_number}={RATE:g}")
    contacts = [f"+155512300{n:02d}" for n in range(BURST)]
    limits = Limits(RATE)
    allowance = limits.burst + limits.overdraft  # at 0.2/s: 1 + 1.2 segments
    # For every reply to go on its first attempt, those attempts would have to be spread over
    # (BURST - allowance - 1) / RATE seconds (the bound below): far longer than the burst takes
    # to go in, however slowly the emulator works, so some reply must be deferred.
    assert (BURST - allowance - 1) / RATE >= 40, "too little margin for a certain deferral"

    for n, contact in enumerate(contacts):  # a burst: every message at once
        send(local_stack, contact, f"hello {n}", account="paced", to=our_number)

    def all_sent() -> list[dict[str, Any]] | None:
        sent = sent_from(local_stack, our_number)
        return sent if len(sent) >= len(contacts) else None

    sent = wait_for("every reply", all_sent)
    stored = [wait_for(f"{c}'s message, settled", lambda c=c: answered(local_stack, "paced", c))
              for c in contacts]  # fmt: skip
    assert sorted(m["to"] for m in sent_from(local_stack, our_number)) == contacts  # once each
    assert sorted(m["to"] for m in sent) == contacts
    for message in stored:  # the stack sent each reply once, as its one send step
        assert send_step(message)["resource_sid"]
    # What the rate could not send at once was deferred (the stack's records, not the clock):
    # a sender sends at most RATE * w + burst + overdraft segments in w seconds, so of the
    # sends made on their message's first attempt, over the w seconds their claims span, at
    # most that many went; every other reply waited for a later attempt.
    at_once = [moment(send_step(m)["started_at"]) for m in stored if not deferred(m)]
    span = (max(at_once) - min(at_once)).total_seconds() if at_once else 0.0
    could_go = RATE * span + allowance + 1  # + 1: a send takes its segment just after its claim
    assert sum(deferred(m) for m in stored) >= len(contacts) - could_go, (len(at_once), span)
    assert any(deferred(m) for m in stored), (len(at_once), span)


def test_quiet_hours_defer_a_reply_into_the_window(
    local_stack: LocalState, cli_env: dict[str, str], tmp_path: Path
) -> None:
    our_number, contact = "+15005550187", "+15551230100"
    add_account(local_stack, cli_env, "quiet", tmp_path)
    now = datetime.now(UTC)  # the window opens on a whole minute at least LEAD from now
    opens = (now + LEAD + timedelta(minutes=1)).replace(second=0, microsecond=0)
    window = f"{opens:%H:%M}-{opens - timedelta(hours=1):%H:%M}"  # quiet for the hour before
    set_account(cli_env, "quiet", "--send-hours", window)

    send(local_stack, contact, "are you open?", account="quiet", to=our_number)
    assert datetime.now(UTC) < opens, "the text went in after the window opened: proves nothing"
    # Nothing can go before the window opens (up to LEAD + a minute away): the deadline for the
    # reply runs from then, not from the text.
    time.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds()))

    [reply] = wait_for(
        "the reply, once the window is open", lambda: sent_from(local_stack, our_number) or None
    )
    assert reply["to"] == contact
    assert created(reply) >= opens  # not before the window
    assert reply["body"] == "Got it: are you open?"
    message = wait_for("the message, settled", lambda: answered(local_stack, "quiet", contact))
    evaluation = message["action_log"]["evaluation"]
    assert moment(evaluation["started_at"]) < opens  # evaluated while quiet ...
    assert deferred(message)  # ... deferred ...
    assert moment(send_step(message)["started_at"]) >= opens  # ... and sent once it opened
