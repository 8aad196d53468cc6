"""A trigger file's schedule that names a ``broadcast`` file: the automation-events function, as
EventBridge Scheduler invokes it, starts a broadcast of that file on moto's DynamoDB, S3 and
Step Functions (the broadcast state machine of statemachines/, its functions in-process:
``test_broadcasts``' stack). One firing is one broadcast and one execution however often it is
delivered, two deliveries at the same moment included; a missing file is a rejection, logged,
not retried. Every AWS call is checked against the function's role."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import yaml

from functions.automation_events import handler as automation_events
from sms_automation.automations.schedules import desired_schedules
from sms_automation.composition import broadcasts as broadcasts_composition
from sms_automation.triggers.loader import parse_trigger_text
from tests.integration.test_broadcasts import (
    CSV,
    NOTIFY,
    Stack,
    contact,
    stack,  # noqa: F401 (the fixture, shared)
)
from tests.support.aws import STACK_NAME, AwsCall, AwsCalls, FakeLambdaContext
from tests.support.aws import clear_cached_dependencies as clear_cached
from tests.support.stepfunctions import executions
from tests.support.template import role_policy

pytestmark = pytest.mark.integration

FILE_KEY = "uploads/acme/every-morning.csv"
SCHEDULED = {
    **NOTIFY,
    "automations": [
        {
            **NOTIFY["automations"][0],  # type: ignore[index]
            "schedules": [{"expression": "cron(0 8 * * ? *)", "broadcast": FILE_KEY}],
        }
    ],
}
MORNING = "2026-12-01T08:00:00Z"


def _clear_caches() -> None:
    """A cold start: the function's clients and the broadcast service it builds on first use."""
    clear_cached(automation_events)
    clear_cached(broadcasts_composition)


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """``test_broadcasts``' stack with the broadcast schedule pushed (the file not uploaded)."""
    shared: Stack = request.getfixturevalue("stack")
    shared.world.push(yaml.safe_dump(SCHEDULED))
    _clear_caches()
    yield shared
    _clear_caches()


def fired(when: str = MORNING) -> dict[str, Any]:
    """What Scheduler passes the function (``DesiredSchedule.input_json``) at ``when``."""
    (schedule,) = desired_schedules("acme", parse_trigger_text(yaml.safe_dump(SCHEDULED)))
    parsed: dict[str, Any] = json.loads(
        schedule.input_json().replace("<aws.scheduler.scheduled-time>", when)
    )
    return parsed


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return dict(automation_events.lambda_handler(event, FakeLambdaContext()))


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_a_firing_starts_one_broadcast_of_the_schedules_file_with_only_its_roles_calls(
    api: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api.upload("every-morning.csv", CSV)
    calls = AwsCalls.install(monkeypatch)
    _clear_caches()
    capsys.readouterr()
    # The execution waits in Validate until the function's own log lines are read: it runs on
    # moto's thread, and its "broadcast validated" would otherwise land among them when it
    # runs faster than the redelivery (its modules already imported by an earlier test).
    api.gate.clear()
    with calls.recording("AutomationEventsFunction"):
        first = invoke(fired())
        redelivered = invoke(fired())  # Scheduler's or Lambda's retry of the same firing
    lines = log_lines(capsys)
    api.gate.set()
    broadcast = first["broadcast"]
    assert (first["started"], broadcast["created"], broadcast["file_key"]) == (True, True, FILE_KEY)
    assert (redelivered["broadcast"]["broadcast_id"], redelivered["broadcast"]["created"]) == (
        broadcast["broadcast_id"],
        False,
    )
    name = fired()["schedule_name"]
    record = api.service.get(broadcast["broadcast_id"])
    assert record is not None
    assert (record["requested_by"], record["idempotency_key"]) == (
        f"schedule:{name}",
        f"schedule:{name}:{MORNING}",
    )
    assert [line["message"] for line in lines] == [
        "scheduled broadcast started",
        "scheduled broadcast already started",
    ]
    assert api.wait_ended(broadcast["broadcast_id"]) == "SUCCEEDED"
    assert len(executions(api.machine)) == 1
    api.deliver_runs()
    assert sorted(m["to"] for m in api.world.twilio.messages()) == [contact(1), contact(3)]

    made = calls.of("AutomationEventsFunction")
    assert AwsCall("states:StartExecution", api.machine) in made
    assert {c.action for c in made} == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "states:StartExecution",
    }, "no s3:GetObject: the function never reads a file's contacts"
    names = {"AppTable": api.world.table, "BroadcastsBucket": "broadcasts-test"}
    policy = role_policy("AutomationEventsFunction", stack_name=STACK_NAME, names=names)
    assert policy.denied(made) == []
    # The check can fail: the same calls against the row function's role.
    row_role = role_policy("BroadcastRowFunction", stack_name=STACK_NAME, names=names)
    assert row_role.denied(made) != []

    # The next morning is its own firing: a broadcast of its own.
    tomorrow = invoke(fired("2026-12-02T08:00:00Z"))
    assert tomorrow["broadcast"]["broadcast_id"] != broadcast["broadcast_id"]
    assert len(executions(api.machine)) == 2
    assert api.wait_ended(tomorrow["broadcast"]["broadcast_id"]) == "SUCCEEDED"


def test_two_deliveries_of_one_firing_at_the_same_moment_start_one_broadcast(
    api: Stack,
) -> None:
    api.upload("every-morning.csv", CSV)
    api.gate.clear()  # the execution stays in Validate: both starts meet a running execution
    together = threading.Barrier(2)
    answers: list[dict[str, Any]] = []

    def deliver() -> None:
        together.wait(timeout=10)
        answers.append(invoke(fired()))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 2
    assert len({a["broadcast"]["broadcast_id"] for a in answers}) == 1
    assert sorted(a["broadcast"]["created"] for a in answers) == [False, True]
    assert len(executions(api.machine)) == 1
    api.gate.set()
    broadcast_id = answers[0]["broadcast"]["broadcast_id"]
    assert api.wait_ended(broadcast_id) == "SUCCEEDED"
    api.deliver_runs()
    assert sorted(m["to"] for m in api.world.twilio.messages()) == [contact(1), contact(3)]


def test_a_missing_file_is_a_rejection_logged_and_not_retried(
    api: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    answer = invoke(fired())  # returns: Lambda does not retry it
    assert (answer["started"], answer["error"]) == (False, "invalid_request")
    assert [p["field"] for p in answer["problems"]] == ["broadcast"]
    (line,) = log_lines(capsys)
    assert line["level"] == "WARNING"
    assert line["message"] == "automation start rejected (not retried)"
    assert (line["broadcast_file"], line["problems"]) == (FILE_KEY, ["broadcast"])
    assert executions(api.machine) == []
    table = boto3.client("dynamodb").scan(TableName=api.world.table)["Items"]
    assert not [item for item in table if item["pk"]["S"].startswith("BROADCAST#")]
