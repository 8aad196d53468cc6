"""The automation-events handler against moto: an ``SMS automation start`` event (matched by the
template's own rule, on the stack's own bus, on moto's EventBridge) and a scheduler invocation
each store one run that the real trigger processor runs from the stream; a rejected start stores
nothing and is not retried; DynamoDB refusing the write, for now or for good, raises, so Lambda
retries the event and then sends it to AutomationsDLQ (the template's on-failure destination);
for good, it logs an ERROR naming the error code first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from functions.automation_events import handler as automation_events
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.automations.events import DETAIL_TYPE, SOURCE
from sms_automation.automations.schedules import desired_schedules
from sms_automation.automations.service import RunStoreUnavailable
from sms_automation.triggers.loader import parse_trigger_text
from tests.resilience.faults import CONNECTION_ERROR, AwsFaults
from tests.support.aws import (
    ACCOUNT_ID,
    REGION,
    STACK_NAME,
    AwsCalls,
    FakeLambdaContext,
    clear_cached_dependencies,
)
from tests.support.conversation_world import ALICE, BOB, OUR_NUMBER, World
from tests.support.template import load_template, resolved, role_policy

pytestmark = pytest.mark.integration

TRIGGERS = {
    "version": 1,
    "automations": [
        {
            "name": "Daily summary",
            "from": OUR_NUMBER,
            "inputs": [{"name": "team", "required": True}],
            "actions": [{"type": "send_sms", "body": "Summary for %team%"}],
            "schedules": [
                {"expression": "cron(0 8 * * ? *)", "to": BOB, "variables": {"team": "ops"}},
            ],
        },
    ],
}
EVENT_ID = "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
FUNCTION = "AutomationEventsFunction"  # its logical id in template.yaml


@pytest.fixture
def stack(world: World) -> Iterator[World]:
    world.push(yaml.safe_dump(TRIGGERS))
    clear_cached_dependencies(automation_events)
    yield world
    clear_cached_dependencies(automation_events)


def bus_event(**detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": EVENT_ID,
        "detail-type": "SMS automation start",
        "source": SOURCE,
        "account": "123456789012",
        "time": "2026-01-01T08:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "account": "acme",
            "automation": "daily summary",
            "to": ALICE,
            "variables": {"team": "sales"},
            **detail,
        },
    }


def scheduled_invocation(when: str = "2026-01-01T08:00:00Z") -> dict[str, Any]:
    file = parse_trigger_text(yaml.safe_dump(TRIGGERS), filename="test")
    (schedule,) = desired_schedules("acme", file)
    parsed: dict[str, Any] = json.loads(
        schedule.input_json().replace("<aws.scheduler.scheduled-time>", when)
    )
    return parsed


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The function's JSON lines written since the last read."""
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return dict(automation_events.lambda_handler(event, FakeLambdaContext()))


def stored_runs(world: World) -> list[dict[str, Any]]:
    return [
        r
        for r in world.stream.inserts_of_inbound_messages()
        if r["dynamodb"]["NewImage"]["kind"]["S"] == "automation_run"
    ]


def deploy_start_rule(stack_name: str) -> str:
    """The stack's ``StartEvent`` rule as CloudFormation would create it (its bus, made if
    missing, and its pattern) on moto's EventBridge, with an SQS queue standing in for the
    function; the queue's URL."""
    template = load_template()
    rule = resolved(
        template["Resources"]["AutomationEventsFunction"]["Properties"]["Events"]["StartEvent"][
            "Properties"
        ],
        stack_name=stack_name,
    )
    bus_name, bus, sqs = rule["EventBusName"], boto3.client("events"), boto3.client("sqs")
    if bus_name not in {b["Name"] for b in bus.list_event_buses()["EventBuses"]}:
        bus.create_event_bus(Name=bus_name)
    queue = sqs.create_queue(QueueName=f"{stack_name}-rule-target")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    bus.put_rule(Name="start", EventBusName=bus_name, EventPattern=json.dumps(rule["Pattern"]))
    bus.put_targets(
        Rule="start",
        EventBusName=bus_name,
        Targets=[{"Id": "q", "Arn": queue_arn["Attributes"]["QueueArn"]}],
    )
    return queue


def stack_bus(stack_name: str) -> str:
    """The bus the stack's ``AutomationsEventBusName`` output tells users to put events on."""
    output = load_template()["Outputs"]["AutomationsEventBusName"]["Value"]
    return str(resolved(output, stack_name=stack_name))


def delivered(queue: str) -> list[dict[str, Any]]:
    received = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in received.get("Messages", [])]


def test_template_rule_routes_the_documented_event(stack: World) -> None:
    """The template's rule on moto's EventBridge: the documented event (its source and
    detail-type) on the stack's bus is delivered; another detail-type or source is not."""
    queue = deploy_start_rule(STACK_NAME)
    documented = bus_event()
    boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": stack_bus(STACK_NAME),
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(documented["detail"]),
            }
            for source, detail_type in (
                (SOURCE, "Booking created"),
                ("com.example.booking", DETAIL_TYPE),
                (SOURCE, DETAIL_TYPE),
            )
        ]
    )
    (event,) = delivered(queue)
    assert (event["source"], event["detail-type"]) == (SOURCE, DETAIL_TYPE)
    answer = invoke(event)
    assert answer["started"] is True
    assert answer["run_id"]


def test_two_stacks_never_answer_one_event(stack: World) -> None:
    """Issue 18 item 5: dev and prod in one AWS account (both at their default parameters).
    A start event put on dev's bus reaches dev's rule only, so one event is one run in one
    stack, not two SMS."""
    dev, prod = deploy_start_rule("sms-automation"), deploy_start_rule("sms-automation-prod")
    assert stack_bus("sms-automation") != stack_bus("sms-automation-prod")
    boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": stack_bus("sms-automation"),
                "Source": SOURCE,
                "DetailType": DETAIL_TYPE,
                "Detail": json.dumps(bus_event()["detail"]),
            }
        ]
    )
    assert len(delivered(dev)) == 1
    assert delivered(prod) == []


def test_event_starts_a_run_the_processor_runs(stack: World) -> None:
    answer = invoke(bus_event())
    assert answer["started"] is True
    records = stored_runs(stack)
    assert len(records) == 1
    image = records[0]["dynamodb"]["NewImage"]
    assert image["source"]["S"] == "event"
    assert image["idempotency_key"]["S"] == f"event:{EVENT_ID}"
    assert stack.deliver(records) == {"batchItemFailures": []}
    assert stack.bodies(ALICE) == ["Summary for sales"]
    assert stack.run_status(answer["run_id"]) == "completed"


def test_event_delivered_twice_starts_one_run(stack: World) -> None:
    first, again = invoke(bus_event()), invoke(bus_event())
    assert first["run_id"] == again["run_id"]
    assert (first["created"], again["created"]) == (True, False)
    assert len(stored_runs(stack)) == 1


@pytest.mark.parametrize(
    ("detail", "error"),
    [
        ({"account": "nobody"}, "account_not_found"),
        ({"automation": "weekly"}, "automation_not_found"),
        ({"variables": {"colour": "red"}}, "invalid_request"),
        ({"to": None}, "invalid_request"),
    ],
)
def test_rejected_event_is_answered_not_raised_and_stores_nothing(
    stack: World, detail: dict[str, Any], error: str
) -> None:
    answer = invoke(bus_event(**detail))
    assert answer["started"] is False
    assert answer["error"] == error
    assert stored_runs(stack) == []


def test_schedule_invocation_starts_the_schedule_of_the_current_file(stack: World) -> None:
    answer = invoke(scheduled_invocation())
    assert answer["started"] is True
    (record,) = stored_runs(stack)
    image = record["dynamodb"]["NewImage"]
    assert image["source"]["S"] == "schedule"
    assert image["idempotency_key"]["S"].endswith(":2026-01-01T08:00:00Z")
    assert stack.deliver([record]) == {"batchItemFailures": []}
    assert stack.bodies(BOB) == ["Summary for ops"]


def test_schedule_reads_the_contact_when_it_fires(stack: World) -> None:
    changed = json.loads(json.dumps(TRIGGERS))
    changed["automations"][0]["schedules"][0]["variables"] = {"team": "support"}
    stack.push(yaml.safe_dump(changed))
    invoke(scheduled_invocation())
    assert stack.deliver() == {"batchItemFailures": []}
    assert stack.bodies(BOB) == ["Summary for support"]


def test_schedule_retried_for_the_same_time_starts_one_run(stack: World) -> None:
    invoke(scheduled_invocation())
    invoke(scheduled_invocation())
    invoke(scheduled_invocation(when="2026-01-02T08:00:00Z"))
    assert len(stored_runs(stack)) == 2


def test_schedule_removed_from_the_file_is_rejected(stack: World) -> None:
    stack.push(yaml.safe_dump({"version": 1}))
    answer = invoke(scheduled_invocation())
    assert answer == {
        "started": False,
        "error": "automation_not_found",
        "message": answer["message"],
    }
    assert stored_runs(stack) == []


@pytest.mark.parametrize(
    "error",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "InternalServerError",
        CONNECTION_ERROR,
    ],
)
def test_dynamodb_failing_for_now_raises_for_lambda_to_retry_without_an_error_line(
    stack: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: str
) -> None:
    AwsFaults.install(monkeypatch).fail("dynamodb", "PutItem", error=error)
    clear_cached_dependencies(automation_events)  # a new client, through the faulty boto3.client
    capsys.readouterr()
    with pytest.raises(RunStoreUnavailable):
        invoke(bus_event())
    assert [line for line in log_lines(capsys) if line["level"] == "ERROR"] == []
    assert stored_runs(stack) == []


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        ("PutItem", "AccessDeniedException"),
        ("PutItem", "ResourceNotFoundException"),
        ("PutItem", "ValidationException"),
        ("GetItem", "AccessDeniedException"),  # the account's read
    ],
)
def test_dynamodb_refusing_for_good_logs_an_error_and_raises_for_the_dlq(
    stack: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    operation: str,
    error: str,
) -> None:
    """Not swallowed: a returned invocation never reaches AutomationsDLQ, a raised one does
    (after Lambda's two retries, which fail the same way unless the cause is fixed)."""
    AwsFaults.install(monkeypatch).fail("dynamodb", operation, error=error)
    clear_cached_dependencies(automation_events)
    capsys.readouterr()
    with pytest.raises(ClientError) as raised:
        invoke(bus_event())
    assert raised.value.response["Error"]["Code"] == error
    [logged] = [line for line in log_lines(capsys) if line["level"] == "ERROR"]
    assert (logged["error_code"], logged["reason"]) == (error, "storage_failed")
    assert "AutomationsDLQ" in logged["message"]
    assert stored_runs(stack) == []


def test_schedule_reads_the_trigger_file_once_and_pins_that_version(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions: list[int] = []
    read = DynamoTriggerStore.current

    def counted(store: DynamoTriggerStore, account: str) -> Any:
        stored = read(store, account)
        versions.append(stored.version if stored is not None else 0)
        return stored

    monkeypatch.setattr(DynamoTriggerStore, "current", counted)
    answer = invoke(scheduled_invocation())
    assert answer["started"] is True
    assert versions == [answer["trigger_version"]]


def test_events_make_only_the_calls_the_role_grants(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto does not enforce IAM: an event, its redelivery, a schedule, a refused start; each
    call's action on the table it names, against the role."""
    calls = AwsCalls.install(monkeypatch)
    clear_cached_dependencies(automation_events)  # a new client, through the recording boto3.client
    with calls.recording(FUNCTION):
        assert invoke(bus_event())["started"] is True
        assert invoke(bus_event())["created"] is False
        assert invoke(scheduled_invocation())["started"] is True
        assert invoke(bus_event(variables={"colour": "red"}))["started"] is False
    made = calls.of(FUNCTION)
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{stack.table}"
    # (each item call also names its partition key: AwsCall.leading_keys)
    assert {("dynamodb:GetItem", table), ("dynamodb:PutItem", table)} <= {
        (c.action, c.resource) for c in made
    }
    names = {"AppTable": stack.table}
    assert role_policy(FUNCTION, stack_name=STACK_NAME, names=names).denied(made) == []

    # The check can fail: the same calls against a role granting them on another table.
    elsewhere = role_policy(FUNCTION, stack_name=STACK_NAME, names={"AppTable": "other"})
    assert set(elsewhere.denied(made)) == made
