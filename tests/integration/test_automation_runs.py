"""Automation runs through the real pipeline: the starter stores the origin, the real trigger
processor runs it from moto's stream, the conversation state machine on moto's executor waits
for the contact, whose reply (through the real webhook) resumes it."""

from __future__ import annotations

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from sms_automation.adapters.aws_failures import is_transient
from sms_automation.adapters.pace_store import DynamoPaceStore
from sms_automation.automations.service import AutomationStarter, RunStoreUnavailable
from sms_automation.automations.start import StartRejected, StartRequest, StartSource
from sms_automation.composition.automations import describe_run, dynamo_starter
from sms_automation.edge.timestamps import utc_now
from sms_automation.processing.pacing import Bucket, Sender, place_of
from sms_automation.processing.port import idempotency_key
from tests.resilience.faults import CONNECTION_ERROR, AwsFaults
from tests.support.conversation_world import ALICE, BOB, OUR_NUMBER, World
from tests.support.stepfunctions import wait_until

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


NO_WAIT = {
    "version": 1,
    "automations": [
        {
            "name": "notify",
            "from": OUR_NUMBER,
            "actions": [{"type": "send_sms", "body": "one"}, {"type": "send_sms", "body": "two"}],
        }
    ],
}


def starter(world: World) -> AutomationStarter:
    return dynamo_starter(world.table, boto3.client("dynamodb"))


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


def test_a_broadcast_rows_prompt_waits_in_the_queue_while_a_reply_goes_at_once(
    world: World,
) -> None:
    """Replies first (issue 17): the conversation a broadcast's row opens is bulk. Its prompt
    takes a place in the sender's queue behind the broadcast's backlog (the register task is
    retried at it) instead of the replies' overdraft, which stays free for a contact's answer."""
    world.push(yaml.safe_dump(REMINDER))
    paces = DynamoPaceStore(world.table, boto3.client("dynamodb"))
    ours = Sender("acme", OUR_NUMBER)
    now_ms = int(utc_now().timestamp() * 1000)
    booked = Bucket(tat=now_ms + 1_000, queue=now_ms + 600_000)  # ten minutes of bulk ahead
    assert paces.write(ours, booked, seen=0, expires_at=now_ms // 1000 + 3_600)

    run_id = start(world, source=StartSource.BROADCAST)
    assert world.deliver() == {"batchItemFailures": []}

    prompt = place_of(idempotency_key(run_id, "appointment-reminder/1/prompt"))
    place = wait_until(lambda: paces.held_place(ours, prompt), what="the prompt's place")
    assert place >= now_ms + 600_000  # behind the backlog
    assert world.bodies() == []  # not sent ahead of it

    world.text("hello", BOB)  # a contact writes meanwhile: the answer goes at once
    assert world.bodies(BOB) == ["echo hello"]


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
    assert [p.field for p in rejected.value.problems] == [
        "variables.appointment",
        "variables.colour",
    ]
    assert world.stream.inserts_of_inbound_messages() == []
    assert world.twilio.messages() == []


def test_the_same_key_with_a_different_request_is_a_conflict(world: World) -> None:
    world.push(yaml.safe_dump(REMINDER))
    first = start(world, idempotency_key="booking-42")
    with pytest.raises(StartRejected) as conflict:
        start(
            world,
            idempotency_key="booking-42",
            variables={"patient": "Bob", "appointment": "2026-12-01T10:00:00Z"},
        )
    assert conflict.value.status == 409
    assert first in conflict.value.message
    assert len(world.stream.inserts_of_inbound_messages()) == 1


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"account": "nobody"}, "there is no account 'nobody'"),
        ({"account": "Not An Account!"}, "there is no account"),
        ({"automation": "missing"}, "has no automation 'missing'"),
    ],
)
def test_unknown_account_or_automation_is_not_found(
    world: World, overrides: dict[str, object], says: str
) -> None:
    world.push(yaml.safe_dump(REMINDER))
    with pytest.raises(StartRejected, match=says) as rejected:
        start(world, **overrides)
    assert rejected.value.status == 404
    assert world.stream.inserts_of_inbound_messages() == []


def test_an_account_without_a_trigger_file_has_no_automations(world: World) -> None:
    with pytest.raises(StartRejected) as rejected:
        start(world)
    assert rejected.value.status == 404


def test_dynamodb_refusing_the_write_starts_nothing_and_a_retry_starts_one_run(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.push(yaml.safe_dump(REMINDER))
    faults = AwsFaults.install(monkeypatch)
    faults.fail("dynamodb", "PutItem", error="ProvisionedThroughputExceededException")
    with pytest.raises(RunStoreUnavailable):
        start(world, idempotency_key="booking-7")
    assert world.stream.inserts_of_inbound_messages() == []
    run_id = start(world, idempotency_key="booking-7")
    records = world.stream.inserts_of_inbound_messages()
    assert [r["dynamodb"]["NewImage"]["run_id"]["S"] for r in records] == [run_id]


@pytest.mark.parametrize(
    "error", ["AccessDeniedException", "ResourceNotFoundException", "ValidationException"]
)
def test_dynamodb_refusing_the_write_for_good_is_not_reported_as_unavailable(
    world: World, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    """A misconfigured role or table: botocore's error as it is (no "try again"), nothing stored."""
    world.push(yaml.safe_dump(REMINDER))
    AwsFaults.install(monkeypatch).fail("dynamodb", "PutItem", error=error)
    with pytest.raises(ClientError) as raised:
        start(world, idempotency_key="booking-8")
    assert raised.value.response["Error"]["Code"] == error
    assert not is_transient(raised.value)
    assert world.stream.inserts_of_inbound_messages() == []


@pytest.mark.parametrize("error", ["InternalServerError", CONNECTION_ERROR])
def test_dynamodb_failing_for_now_is_reported_as_unavailable(
    world: World, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    world.push(yaml.safe_dump(REMINDER))
    AwsFaults.install(monkeypatch).fail("dynamodb", "PutItem", error=error)
    with pytest.raises(RunStoreUnavailable):
        start(world, idempotency_key="booking-9")
    assert world.stream.inserts_of_inbound_messages() == []


def test_a_run_keeps_the_version_it_started_with(world: World) -> None:
    """A push between the start and the processing (or a redelivery) does not change the run."""
    world.push(yaml.safe_dump(REMINDER))
    run_id = start(world)
    records = world.stream.inserts_of_inbound_messages()
    world.push(yaml.safe_dump({"version": 1, "triggers": REMINDER["triggers"]}))
    assert world.deliver(records) == {"batchItemFailures": []}
    world.registered(run_id, "appointment-reminder/1")
    assert world.bodies() == ["Hi Ann, reply YES to confirm 2026-12-01T10:00:00Z"]


def test_a_redelivered_run_sends_nothing_twice(world: World) -> None:
    world.push(yaml.safe_dump(NO_WAIT))
    start(world, automation="notify", variables={})
    records = world.stream.inserts_of_inbound_messages()
    assert world.deliver(records) == {"batchItemFailures": []}
    assert world.deliver(records) == {"batchItemFailures": []}  # the stream redelivers
    assert world.bodies() == ["one", "two"]
