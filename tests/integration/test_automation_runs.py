"""Automation runs through the real pipeline: the starter stores the origin, the real trigger
processor runs it from moto's stream, the wait-for-reply state machine on moto's executor waits
for the contact, whose reply (through the real webhook) resumes it."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
import yaml

from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.automation_run_store import DynamoAutomationRunStore
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.automations.service import AutomationStarter, describe_run
from sms_automation.automations.start import StartRejected, StartRequest, StartSource
from tests.support.conversation_world import ALICE, OUR_NUMBER, World

pytestmark = pytest.mark.integration

REMINDER = {
    "version": 1,
    "triggers": [{"name": "echo", "actions": [{"type": "send_sms", "body": "echo %Body%"}]}],
    "automations": [
        {
            "name": "appointment-reminder",
            "from": OUR_NUMBER,
            "inputs": [
                {"name": "patient", "required": True},
                {"name": "appointment", "type": "datetime", "required": True},
            ],
            "actions": [
                {
                    "type": "wait_for_reply",
                    "prompt": "Hi %patient%, reply YES to confirm %appointment%",
                    "timeout": "1h",
                    "expect": ["yes", "no"],
                    "on_reply": [{"type": "send_sms", "body": "Thanks, %answer.body%"}],
                    "on_timeout": [{"type": "send_sms", "body": "No answer"}],
                },
                {"type": "send_sms", "body": "Run %run_id% done"},
            ],
        }
    ],
}


def starter(world: World) -> AutomationStarter:
    client = boto3.client("dynamodb")
    return AutomationStarter(
        accounts=DynamoAccountStore(world.table, client),
        triggers=DynamoTriggerStore(world.table, client),
        runs=DynamoAutomationRunStore(world.table, client),
        clock=lambda: datetime.now(UTC),
    )


def start(world: World, **overrides: object) -> str:
    request = StartRequest(
        account="acme",
        automation="appointment-reminder",
        to=ALICE,
        variables={"patient": "Ann", "appointment": "2026-12-01T10:00:00Z"},
        source=StartSource.API,
        requested_by="arn:aws:iam::123456789012:role/booking",
    )
    for name, value in overrides.items():
        object.__setattr__(request, name, value)
    return starter(world).start(request).run_id


def test_a_started_run_prompts_waits_for_the_reply_and_continues(world: World) -> None:
    world.push(yaml.safe_dump(REMINDER))
    run_id = start(world)
    assert world.deliver() == {"batchItemFailures": []}
    world.registered(run_id, "appointment-reminder/1")
    assert world.bodies() == ["Hi Ann, reply YES to confirm 2026-12-01T10:00:00Z"]
    assert world.run_status(run_id) == "paused"

    reply = world.text("yes")

    assert world.finished(run_id, "appointment-reminder/1") == "SUCCEEDED"
    assert world.bodies() == [
        "Hi Ann, reply YES to confirm 2026-12-01T10:00:00Z",
        "Thanks, yes",
        f"Run {run_id} done",
    ]
    assert world.run_status(run_id) == "completed"
    assert world.run_status(reply) == "conversation_reply"
    view = describe_run(world.table, boto3.client("dynamodb"), run_id, account="acme")
    assert view is not None
    assert view["status"] == "completed"
    assert view["ended"] is True
    assert [c["status"] for c in view["conversations"]] == ["replied"]
    # the wait itself is the conversation; the ledger holds its prompt and the sends
    assert sorted(s["step_id"] for s in view["steps"]) == [
        "appointment-reminder/1/on_reply/1",
        "appointment-reminder/1/prompt",
        "appointment-reminder/2",
    ]


def test_the_same_idempotency_key_starts_one_run(world: World) -> None:
    world.push(yaml.safe_dump(REMINDER))
    first = start(world, idempotency_key="booking-42")
    again = start(world, idempotency_key="booking-42")
    assert first == again
    records = world.stream.inserts_of_inbound_messages()
    assert len(records) == 1
    assert world.deliver(records) == {"batchItemFailures": []}
    world.registered(first, "appointment-reminder/1")
    assert len(world.bodies()) == 1


def test_a_rejected_start_stores_nothing(world: World) -> None:
    world.push(yaml.safe_dump(REMINDER))
    with pytest.raises(StartRejected) as rejected:
        start(world, variables={"patient": "Ann", "appointment": "tomorrow", "colour": "red"})
    assert rejected.value.status == 400
    assert [p.field for p in rejected.value.problems] == ["variables.appointment", "variables.colour"]
    assert world.stream.inserts_of_inbound_messages() == []
    assert world.twilio.messages() == []
