"""The loop and flood guard end to end in one process (the trigger processor's harness): two
auto-responders answering each other stop at the account's send cap, and a message from one of
the account's own numbers runs no triggers."""

from __future__ import annotations

import json

import boto3
import pytest

from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
from sms_automation.processing.ledger import StepState
from sms_automation_cli.main import main
from tests.integration import test_trigger_processor as harness
from tests.support.aws import SECRETS_PREFIX
from tests.support.moto_stack import WEBHOOK_BASE_URL
from tests.support.twilio_server import rate_limited

pytestmark = pytest.mark.integration

World, SMS_SID = harness.World, harness.SMS_SID
world = harness.world  # the trigger processor's harness, as a fixture here too

OUR_NUMBER = "+15005550006"
OTHER_BOT = "+14155550101"  # sms_plain's sender


def use_the_cli(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "SMS_AUTOMATION_TABLE": world.table,
        "SMS_AUTOMATION_SECRETS_PREFIX": SECRETS_PREFIX,
        "SMS_AUTOMATION_WEBHOOK_BASE_URL": WEBHOOK_BASE_URL,
    }.items():
        monkeypatch.setenv(name, value)


def bot_answer(world: World, number: int) -> str:
    """The other bot answers what we sent it: a new signed inbound SMS from it."""
    sid = f"SM{number:032d}"
    world.receive("sms_plain", **{SMS_SID: sid, "Hello+there": f"Auto+reply+{number}"})
    return sid


def test_two_auto_responders_answering_each_other_stop_at_the_cap(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.receive("sms_plain")
    last = SMS_SID
    for number in range(1, 30):
        assert world.deliver() == {"batchItemFailures": []}
        if len(world.sms_sent()) < number:
            break  # we did not answer: the exchange is over
        last = bot_answer(world, number)

    assert len(world.sms_sent()) == 10  # the default cap: 10 in 10 minutes
    skipped = world.steps(last)["auto-reply/1"]
    assert skipped.state is StepState.FAILED
    assert skipped.detail == (
        "not sent: 10 automatic messages to +1********01 from +1********06 in the last "
        "10 minutes (the account's send cap)"
    )
    assert world.steps(last)["auto-reply/2"].state is StepState.DONE  # the rest of it still ran
    line = [entry for entry in capsys.readouterr().out.splitlines() if last in entry][-1]
    assert '"SendsCapped":1' in line


def test_the_cap_is_the_accounts_and_a_replay_is_not_counted_twice(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_the_cli(world, monkeypatch)
    assert main(["accounts", "show", "acme"]) == 0
    assert "10 automatic messages per 10 minutes" in capsys.readouterr().out
    assert main(["accounts", "set", "acme", "--send-cap", "2", "--send-window", "5"]) == 0
    capsys.readouterr()
    assert main(["accounts", "show", "acme", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["send_cap"] == {"count": 2, "window_minutes": 5}
    world.receive("sms_plain")
    records = world.stream.inserts_of_inbound_messages()
    # Rate limited on every attempt the adapter makes: certainly not sent, the claim released.
    world.twilio.fail_next(*(rate_limited(retry_after="0") for _ in range(3)))
    assert world.deliver(records)["batchItemFailures"]  # counted, not sent: retried
    assert world.deliver(records) == {"batchItemFailures": []}  # its slot again, not a second
    bot_answer(world, 1)
    world.deliver()
    bot_answer(world, 2)
    world.deliver()

    assert len(world.sms_sent()) == 2
    assert world.steps(f"SM{2:032d}")["auto-reply/1"].detail.startswith(
        "not sent: 2 automatic messages to +1********01 from +1********06 in the last 5 minutes"
    )


def test_a_message_from_one_of_the_accounts_own_numbers_runs_no_triggers(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_the_cli(world, monkeypatch)
    world.receive("sms_plain")  # to +15005550006: the account's number from now on
    world.receive(
        "sms_plain",
        **{SMS_SID: f"SM{1:032d}", "To=%2B15005550006": "To=%2B15005550007"},
        **{"From=%2B14155550101": "From=%2B15005550006"},
    )
    world.receive(
        "sms_plain", **{SMS_SID: f"SM{2:032d}", "From=%2B14155550101": "From=%2B15005550006"}
    )
    assert world.deliver() == {"batchItemFailures": []}

    assert [m["to"] for m in world.sms_sent()] == [OTHER_BOT]
    runs = DynamoEvaluationStore(world.table, boto3.client("dynamodb"))
    for sid in (f"SM{1:032d}", f"SM{2:032d}"):
        run = runs.get(sid)
        assert run is not None
        assert (run.status, world.steps(sid)) == ("own_number", {})
        assert "one of the account's own numbers" in run.diagnostics[0]["message"]
    lines = capsys.readouterr().out.splitlines()
    assert sum('"MessagesFromOwnNumber":1' in line for line in lines) == 2
    assert main(["messages", "show", f"SM{2:032d}", "--format", "text"]) == 0
    assert "evaluation: none: sent from one of the account's own numbers" in capsys.readouterr().out
