"""Opt-out compliance through the real pipeline: the webhook, the trigger processor on moto's
stream, the conversation state machine on moto's executor, the Twilio-like server on
127.0.0.1. STOP records the contact and runs nothing; every later send to them is skipped with
the reason before Twilio is called; START lets texts flow again."""

from __future__ import annotations

import boto3
import pytest
import yaml

from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation.adapters.step_ledger import DynamoStepLedger
from sms_automation.automations.start import StartRequest, StartSource
from sms_automation.composition.automations import dynamo_starter
from sms_automation.opt_out import ContactState
from sms_automation.processing.ledger import StepState
from tests.support.aws import account_registry
from tests.support.conversation_world import ALICE, BOB, OUR_NUMBER, World

pytestmark = pytest.mark.integration

TRIGGERS = {
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
                    "remind": [{"after": "30m", "text": "Still there?"}],
                    "on_reply": [{"type": "send_sms", "body": "Thanks %answer.body%"}],
                    "on_timeout": [{"type": "send_sms", "body": "No answer"}],
                },
                {"type": "send_sms", "body": "Bye"},
            ],
        },
        {"name": "echo", "actions": [{"type": "send_sms", "body": "echo %Body%"}]},
    ],
    "automations": [
        {"name": "notify", "from": OUR_NUMBER, "actions": [{"type": "send_sms", "body": "news"}]}
    ],
}


def contact(world: World, number: str = ALICE) -> ContactState | None:
    return DynamoContactStore(world.table, boto3.client("dynamodb")).get("acme", OUR_NUMBER, number)


def notify(world: World, to: str = ALICE) -> str:
    request = StartRequest(
        account="acme",
        automation="notify",
        to=to,
        variables={},
        source=StartSource.API,
        requested_by="arn:aws:iam::123456789012:role/booking",
    )
    run_id = dynamo_starter(world.table, boto3.client("dynamodb")).start(request).run_id
    assert world.deliver() == {"batchItemFailures": []}
    return run_id


def step(world: World, message_sid: str, step_id: str) -> tuple[StepState, str]:
    record = DynamoStepLedger(world.table, boto3.client("dynamodb")).get(message_sid, step_id)
    assert record is not None
    return record.state, record.detail


@pytest.mark.parametrize("body", ["STOP", "  stop ", "StopAll", "UNSUBSCRIBE", "cancel"])
def test_stop_records_the_contact_and_gets_no_auto_reply(world: World, body: str) -> None:
    world.push(yaml.safe_dump(TRIGGERS))

    sid = world.text(body)

    assert world.bodies() == []  # the catch-all echo did not run
    assert world.run_status(sid) == "opted_out"
    state = contact(world)
    assert state is not None
    assert state.opted_out
    assert (state.keyword, state.message_sid) == (body.strip().upper(), sid)


def test_an_automation_to_an_opted_out_contact_is_skipped_with_the_reason(world: World) -> None:
    world.push(yaml.safe_dump(TRIGGERS))
    world.text("STOP")

    run_id = notify(world)
    world.text("hello")  # a trigger's reply is skipped too

    assert world.bodies() == []
    assert not [r for r in world.twilio.requests() if r.method == "POST"]  # Twilio never asked
    state, detail = step(world, run_id, "notify/1")
    assert state is StepState.FAILED
    assert detail.startswith("not sent: +1********01 opted out (STOP, 20")
    assert ALICE not in detail
    notify(world, to=BOB)  # others still get it
    assert world.bodies(BOB) == ["news"]


def test_start_lets_texts_flow_again(world: World) -> None:
    world.push(yaml.safe_dump(TRIGGERS))
    world.text("stop")

    sid = world.text("Start")
    notify(world)

    assert world.run_status(sid) == "opted_in"
    state = contact(world)
    assert state is not None
    assert not state.opted_out
    assert world.bodies() == ["news"]


def test_a_replayed_or_older_stop_changes_nothing(world: World) -> None:
    world.push(yaml.safe_dump(TRIGGERS))
    world.receive("STOP")
    stop_records = world.stream.inserts_of_inbound_messages()
    world.deliver(stop_records)
    world.text("START")

    assert world.deliver(stop_records) == {"batchItemFailures": []}  # a redelivery

    state = contact(world)
    assert state is not None
    assert (state.opted_out, state.keyword) == (False, "START")


def test_twilio_21610_marks_the_contact_opted_out(world: World) -> None:
    world.push(yaml.safe_dump(TRIGGERS))
    world.twilio.refuse_recipient(ALICE, 21610)

    first = notify(world)
    second = notify(world)

    assert step(world, first, "notify/1")[0] is StepState.FAILED
    state = contact(world)
    assert state is not None
    assert (state.opted_out, state.keyword, state.message_sid) == (True, "21610", first)
    creates = [r for r in world.twilio.requests() if r.method == "POST"]
    assert len(creates) == 1  # the second run did not ask Twilio
    assert step(world, second, "notify/1")[1].startswith("not sent: +1********01 opted out")


def test_stop_while_a_conversation_waits_ends_it_with_no_reminder(world: World) -> None:
    world.push(yaml.safe_dump(TRIGGERS))
    origin = world.text("book me")
    world.registered(origin)

    stop = world.text("STOP")

    assert world.finished(origin) == "SUCCEEDED"
    assert world.conversation(origin).status == "opted_out"
    assert world.run_status(stop) == "opted_out"
    assert world.bodies() == ["Reply YES to confirm"]  # no reminder, no branch, no "Bye"


def test_yes_from_a_contact_who_never_opted_out_answers_the_waiting_conversation(
    world: World,
) -> None:
    world.push(yaml.safe_dump(TRIGGERS))
    origin = world.text("book me")
    world.registered(origin)

    reply = world.text("YES")

    assert world.finished(origin) == "SUCCEEDED"
    assert world.run_status(reply) == "conversation_reply"
    assert world.bodies() == ["Reply YES to confirm", "Thanks YES", "Bye"]
    assert contact(world) is None


def test_an_opt_out_runs_only_the_triggers_that_ask_for_it(world: World) -> None:
    acknowledged = {
        "name": "log-opt-out",
        "on_opt_out": True,
        "when": {"field": "Body", "matches_any_of": ["stop", "unsubscribe"]},
        "actions": [
            {"type": "record", "item": {"opted_out": "%From%"}},
            {"type": "send_sms", "body": "You will get no more texts"},
        ],
    }
    world.push(yaml.safe_dump({**TRIGGERS, "triggers": [*TRIGGERS["triggers"], acknowledged]}))

    sid = world.text("Unsubscribe")

    assert world.run_status(sid) == "completed"
    assert step(world, sid, "log-opt-out/1")[0] is StepState.DONE
    state, detail = step(world, sid, "log-opt-out/2")  # the contact has opted out: not sent
    assert (state, detail[:9]) == (StepState.FAILED, "not sent:")
    assert world.bodies() == []


def settings(world: World, *, help_text: str = "", keywords: frozenset[str] = frozenset()) -> None:
    registry = account_registry(
        world.table, boto3.client("dynamodb"), boto3.client("secretsmanager")
    )
    registry.set_opt_out_settings("acme", help_text=help_text, opt_out_keywords=keywords)


def test_help_is_answered_with_the_account_help_text_once(world: World) -> None:
    settings(world, help_text="Acme alerts. Reply STOP to opt out.")
    world.push(yaml.safe_dump(TRIGGERS))
    world.receive(" help ")
    records = world.stream.inserts_of_inbound_messages()

    assert world.deliver(records) == {"batchItemFailures": []}
    assert world.deliver(records) == {"batchItemFailures": []}  # a redelivery sends nothing

    assert world.bodies() == ["Acme alerts. Reply STOP to opt out."]  # and no echo
    sid = records[0]["dynamodb"]["NewImage"]["message_sid"]["S"]
    assert world.run_status(sid) == "help"


def test_help_without_a_help_text_is_an_ordinary_message(world: World) -> None:
    world.push(yaml.safe_dump(TRIGGERS))
    world.text("HELP")
    assert world.bodies() == ["echo HELP"]


def test_the_account_own_opt_out_keywords(world: World) -> None:
    settings(world, keywords=frozenset({"HALT"}))
    world.push(yaml.safe_dump(TRIGGERS))

    sid = world.text(" Halt")

    assert world.run_status(sid) == "opted_out"
    assert world.bodies() == []
    state = contact(world)
    assert state is not None
    assert (state.opted_out, state.keyword) == (True, "HALT")
