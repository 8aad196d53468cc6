"""The schedule-sync handler on moto's DynamoDB stream and EventBridge Scheduler: a push creates
the account's schedules, a change updates them, a removal deletes them, another account's are
left alone; a created schedule's own input, fired, starts the run through automation-events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import yaml

from functions.automation_events import handler as automation_events
from functions.schedule_sync import handler as schedule_sync
from sms_automation import keys
from sms_automation.adapters.account_store import DynamoAccountStore
from tests.support.aws import (
    STACK_NAME,
    AwsCall,
    AwsCalls,
    FakeLambdaContext,
    clear_cached_dependencies,
)
from tests.support.conversation_world import BOB, OUR_NUMBER, World
from tests.support.moto_stack import push_triggers
from tests.support.streams import stream_event
from tests.support.template import role_policy

pytestmark = pytest.mark.integration

GROUP = "stack-automations"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:stack-automation-events"
ROLE_ARN = "arn:aws:iam::123456789012:role/stack-scheduler"
FUNCTION = "ScheduleSyncFunction"  # its logical id in template.yaml


def daily(*schedules: dict[str, Any], enabled: bool = True) -> dict[str, Any]:
    return {
        "version": 1,
        "automations": [
            {
                "name": "Daily summary",
                "enabled": enabled,
                "from": OUR_NUMBER,
                "actions": [{"type": "send_sms", "body": "Good morning"}],
                "schedules": list(schedules),
            }
        ],
    }


AT_EIGHT = {"expression": "cron(0 8 * * ? *)", "to": BOB, "timezone": "Europe/London"}
HOURLY = {"expression": "rate(1 hour)", "to": BOB}


@pytest.fixture
def stack(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    boto3.client("scheduler").create_schedule_group(Name=GROUP)
    monkeypatch.setenv("SCHEDULE_GROUP_NAME", GROUP)
    monkeypatch.setenv("AUTOMATION_EVENTS_FUNCTION_ARN", FUNCTION_ARN)
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", ROLE_ARN)
    for module in (schedule_sync, automation_events):
        clear_cached_dependencies(module)
    yield world
    for module in (schedule_sync, automation_events):
        clear_cached_dependencies(module)


def pointer_records(world: World) -> list[dict[str, Any]]:
    """What the sync mapping's filter lets through: pointer INSERT/MODIFY, account MODIFY,
    pointer REMOVE."""
    return [
        r
        for r in world.stream.new_records()
        if r["dynamodb"].get("NewImage", {}).get("kind", {}).get("S") == keys.KIND_TRIGGER_POINTER
        or (
            r["eventName"] == "MODIFY"
            and r["dynamodb"]["NewImage"].get("kind", {}).get("S") == keys.KIND_ACCOUNT
        )
        or (
            r["eventName"] == "REMOVE"
            and r["dynamodb"]["Keys"]["sk"]["S"] == keys.trigger_pointer_key("x")["sk"]
        )
    ]


def push_and_sync(world: World, document: dict[str, Any], account: str = "acme") -> None:
    push_triggers(world.table, yaml.safe_dump(document), account=account)
    records = pointer_records(world)
    assert records, "the push wrote the pointer"
    response = schedule_sync.lambda_handler(stream_event(records), FakeLambdaContext())
    assert response == {"batchItemFailures": []}


def schedules_in_group() -> dict[str, dict[str, Any]]:
    client = boto3.client("scheduler")
    names = [s["Name"] for s in client.list_schedules(GroupName=GROUP)["Schedules"]]
    return {name: client.get_schedule(Name=name, GroupName=GROUP) for name in names}


def test_push_creates_the_schedules(stack: World) -> None:
    push_and_sync(stack, daily(AT_EIGHT, HOURLY))
    found = schedules_in_group()
    assert sorted(found) == [
        name for name in sorted(found) if name.startswith("acme.daily-summary.")
    ]
    by_expression = {s["ScheduleExpression"]: s for s in found.values()}
    assert set(by_expression) == {"cron(0 8 * * ? *)", "rate(1 hour)"}
    eight = by_expression["cron(0 8 * * ? *)"]
    assert eight["ScheduleExpressionTimezone"] == "Europe/London"
    assert eight["State"] == "ENABLED"
    assert eight["Target"]["Arn"] == FUNCTION_ARN
    assert eight["Target"]["RoleArn"] == ROLE_ARN
    assert eight["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert BOB not in eight["Target"]["Input"]


def sync(world: World) -> None:
    records = pointer_records(world)
    assert records
    response = schedule_sync.lambda_handler(stream_event(records), FakeLambdaContext())
    assert response == {"batchItemFailures": []}


def zones_by_expression() -> dict[str, str]:
    return {
        s["ScheduleExpression"]: s["ScheduleExpressionTimezone"]
        for s in schedules_in_group().values()
    }


def test_a_schedule_without_a_zone_runs_in_the_accounts_and_follows_its_changes(
    stack: World,
) -> None:
    accounts = DynamoAccountStore(stack.table, boto3.client("dynamodb"))
    push_and_sync(stack, daily(AT_EIGHT, HOURLY))
    assert zones_by_expression() == {"cron(0 8 * * ? *)": "Europe/London", "rate(1 hour)": "UTC"}

    accounts.set_timezone("acme", "Asia/Tokyo")  # accounts set acme --timezone Asia/Tokyo
    sync(stack)

    assert zones_by_expression() == {
        "cron(0 8 * * ? *)": "Europe/London",  # its own zone wins
        "rate(1 hour)": "Asia/Tokyo",
    }


def test_change_updates_and_removal_deletes(stack: World) -> None:
    push_and_sync(stack, daily(AT_EIGHT, HOURLY))
    push_and_sync(stack, daily({**AT_EIGHT, "expression": "cron(30 9 * * ? *)"}))
    (only,) = schedules_in_group().values()
    assert only["ScheduleExpression"] == "cron(30 9 * * ? *)"
    assert only["Name"].endswith(".1")
    push_and_sync(stack, {"version": 1})
    assert schedules_in_group() == {}


def test_disabled_automation_keeps_its_schedule_disabled(stack: World) -> None:
    push_and_sync(stack, daily(AT_EIGHT, enabled=False))
    (only,) = schedules_in_group().values()
    assert only["State"] == "DISABLED"
    push_and_sync(stack, daily(AT_EIGHT))
    (only,) = schedules_in_group().values()
    assert only["State"] == "ENABLED"


def test_pointer_removed_deletes_the_accounts_schedules(stack: World) -> None:
    push_and_sync(stack, daily(AT_EIGHT))
    boto3.client("dynamodb").delete_item(
        TableName=stack.table,
        Key={k: {"S": v} for k, v in keys.trigger_pointer_key("acme").items()},
    )
    records = [r for r in pointer_records(stack) if r["eventName"] == "REMOVE"]
    assert len(records) == 1
    assert schedule_sync.lambda_handler(stream_event(records), FakeLambdaContext()) == {
        "batchItemFailures": []
    }
    assert schedules_in_group() == {}


def test_another_accounts_schedules_are_left_alone(stack: World) -> None:
    push_and_sync(stack, daily(AT_EIGHT), account="acme-2")
    push_and_sync(stack, daily(AT_EIGHT, HOURLY))
    push_and_sync(stack, {"version": 1})
    (only,) = schedules_in_group()
    assert only.startswith("acme-2.")


def test_a_synced_schedule_fired_starts_its_run(stack: World) -> None:
    push_and_sync(stack, daily(AT_EIGHT))
    (schedule,) = schedules_in_group().values()
    fired = json.loads(
        schedule["Target"]["Input"].replace(
            "<aws.scheduler.scheduled-time>", "2026-01-01T08:00:00Z"
        )
    )
    answer = automation_events.lambda_handler(fired, FakeLambdaContext())
    assert answer["started"] is True
    assert stack.deliver() == {"batchItemFailures": []}
    assert stack.bodies(BOB) == ["Good morning"]


def test_sync_makes_only_the_calls_its_role_grants(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto does not enforce IAM: a create, an update, a delete; each call's action on the
    schedule (of the group) or role it names, against the role."""
    calls = AwsCalls.install(monkeypatch)
    clear_cached_dependencies(schedule_sync)  # new clients, through the recording boto3.client
    for document in (
        daily(AT_EIGHT, HOURLY),
        daily({**AT_EIGHT, "expression": "cron(30 9 * * ? *)"}),
    ):
        push_triggers(stack.table, yaml.safe_dump(document))
        records = pointer_records(stack)
        with calls.recording(FUNCTION):
            response = schedule_sync.lambda_handler(stream_event(records), FakeLambdaContext())
        assert response == {"batchItemFailures": []}
    made = calls.of(FUNCTION)
    on_schedules = {
        "scheduler:GetSchedule",
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
    }
    others = {"scheduler:ListSchedules", "iam:PassRole", "dynamodb:GetItem"}
    assert on_schedules | others <= {call.action for call in made}
    assert AwsCall("iam:PassRole", ROLE_ARN) in made
    names = {
        "AppTable": stack.table,
        "AutomationSchedules": GROUP,
        "AutomationSchedulerRole": ROLE_ARN.rsplit("/", 1)[1],
    }
    assert role_policy(FUNCTION, stack_name=STACK_NAME, names=names).denied(made) == []

    # The check can fail: the same calls against a role granting them on another group's
    # schedules.
    elsewhere = role_policy(
        FUNCTION, stack_name=STACK_NAME, names={**names, "AutomationSchedules": "other"}
    )
    assert {call.action for call in elsewhere.denied(made)} == on_schedules
