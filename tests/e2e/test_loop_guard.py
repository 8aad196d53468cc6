"""The loop and flood guard on the deployed stack: the test plays another auto-responder that
answers every SMS the demo's catch-all sends it with a signed inbound SMS, and the exchange stops
at the demo account's send cap (10 per 10 minutes) with the skip in the action log; a message
from the demo's own number runs no triggers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sms_automation_local.state import LocalState
from tests.e2e.conftest import sms_automation
from tests.e2e.polling import wait_for
from tests.e2e.texting import replies_to, send

pytestmark = pytest.mark.e2e

FINISHED = {"completed", "own_number"}


def finished_log(cli_env: dict[str, str], message_sid: str) -> dict[str, Any] | None:
    """The message's action log once its run has finished, else ``None``."""
    shown = sms_automation(cli_env, "messages", "show", message_sid)
    if shown.returncode != 0:
        return None
    log: dict[str, Any] = json.loads(shown.stdout)["action_log"]
    run = log["evaluation"]
    return log if run is not None and run["status"] in FINISHED else None


def test_two_auto_responders_answering_each_other_stop_at_the_cap(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    bot = "+15005550141"
    sid = send(local_stack, bot, "Hello, I am a bot")
    for answered in range(1, 20):
        log = wait_for(f"message {answered} processed", lambda sid=sid: finished_log(cli_env, sid))
        [step] = log["steps"]
        if step["state"] == "failed":
            break
        assert len(replies_to(local_stack, bot)) == answered
        sid = send(local_stack, bot, f"Thanks for your message! ({answered})")  # the other bot

    assert len(replies_to(local_stack, bot)) == 10
    assert step["detail"] == (
        "not sent: 10 automatic messages to +1********41 from +1********06 in the last "
        "10 minutes (the account's send cap)"
    )


def test_a_message_from_the_accounts_own_number_runs_no_triggers(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    sid = send(local_stack, local_stack.demo_number, "Thanks for your message!")

    log = wait_for("the message processed", lambda sid=sid: finished_log(cli_env, sid))

    assert (log["evaluation"]["status"], log["steps"]) == ("own_number", [])
    assert "one of the account's own numbers" in log["evaluation"]["diagnostics"][0]["message"]
    assert replies_to(local_stack, local_stack.demo_number) == []
