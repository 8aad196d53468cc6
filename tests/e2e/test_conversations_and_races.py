"""On the deployed local stack: conversations on the real state machine, and duplicate deliveries
racing each other. Polls with a bounded deadline; never asserts a time."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from sms_automation_local.demo import DEMO_AUTH_TOKEN
from sms_automation_local.inbound_sms import deliver, inbound_sms_form
from sms_automation_local.state import LocalState
from tests.e2e.conftest import sms_automation
from tests.e2e.polling import wait_for
from tests.e2e.texting import BOOK_PROMPT, replies_to, send

pytestmark = pytest.mark.e2e


def bodies_to(stack: LocalState, contact: str) -> list[str]:
    return sorted(m["body"] for m in replies_to(stack, contact))


def test_conversation_reply_runs_the_continuation(local_stack: LocalState) -> None:
    contact = "+15005550131"
    send(local_stack, contact, "BOOK")
    wait_for("the prompt", lambda: BOOK_PROMPT in bodies_to(local_stack, contact) or None)

    send(local_stack, contact, "maybe")
    wait_for(
        "the reprompt", lambda: "Please reply YES or NO." in bodies_to(local_stack, contact) or None
    )
    send(local_stack, contact, "Yes")

    wait_for(
        "the confirmation",
        lambda: "Confirmed: see you tomorrow at 10:00." in bodies_to(local_stack, contact) or None,
    )
    # The replies were consumed by the conversation: no auto-reply to "maybe" or "Yes".
    assert bodies_to(local_stack, contact) == sorted(
        [BOOK_PROMPT, "Please reply YES or NO.", "Confirmed: see you tomorrow at 10:00."]
    )


def test_conversation_timeout_runs_the_timeout_branch(
    local_stack: LocalState, cli_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A second account with a 3-second wait: the literal-timer design times out on the emulator
    too (it ignores TimeoutSecondsPath)."""
    triggers = tmp_path_factory.mktemp("triggers") / "short.yaml"
    triggers.write_text(
        "version: 1\n"
        "triggers:\n"
        "  - name: ask\n"
        "    actions:\n"
        "      - type: wait_for_reply\n"
        '        prompt: "Quick: YES?"\n'
        "        timeout: 3s\n"
        "        on_timeout:\n"
        "          - type: send_sms\n"
        '            body: "Too late."\n',
        encoding="utf-8",
    )
    added = sms_automation(
        cli_env,
        "accounts",
        "add",
        "quick",
        "--account-sid",
        local_stack.demo_account_sid,
        "--auth-token-stdin",
        stdin=DEMO_AUTH_TOKEN + "\n",
    )
    assert added.returncode == 0, added.stderr
    pushed = sms_automation(cli_env, "triggers", "push", "quick", str(triggers))
    assert pushed.returncode == 0, pushed.stderr

    contact = "+15005550132"
    sid = send(local_stack, contact, "hi", account="quick")

    wait_for("the timeout branch", lambda: "Too late." in bodies_to(local_stack, contact) or None)
    assert bodies_to(local_stack, contact) == ["Quick: YES?", "Too late."]
    shown = sms_automation(cli_env, "messages", "show", sid)
    [conversation] = json.loads(shown.stdout)["action_log"]["conversations"]
    assert conversation["outcome"]["outcome"] == "timeout"


def test_concurrent_duplicate_deliveries_store_once_and_reply_once(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    contact = "+15005550133"
    form = inbound_sms_form(
        account_sid=local_stack.demo_account_sid,
        from_number=contact,
        to_number=local_stack.demo_number,
        body="racing",
    )
    url = local_stack.messaging_request_url(local_stack.demo_account)
    racers = 8
    barrier = Barrier(racers)

    def post(_: int) -> int:
        barrier.wait()
        return deliver(url, form, DEMO_AUTH_TOKEN).status

    with ThreadPoolExecutor(racers) as pool:
        statuses = list(pool.map(post, range(racers)))

    assert statuses == [200] * racers
    send(local_stack, contact, "after the race")  # its reply marks the end of processing
    wait_for("both replies", lambda: replies_to(local_stack, contact)[1:] or None)
    assert len(replies_to(local_stack, contact)) == 2
    listed = sms_automation(
        cli_env, "messages", "list", "--account", "demo", "--limit", "500", "--json"
    )
    sids = [json.loads(line)["message_sid"] for line in listed.stdout.splitlines()]
    assert sids.count(dict(form)["MessageSid"]) == 1
