"""The automations API's broadcast pause, resume and cancel routes: the real handler on moto's
DynamoDB, S3 and Step Functions (the broadcast state machine of statemachines/, run by moto's
executor with the broadcast functions in-process: ``test_broadcasts``' stack).

Each route is idempotent (a repeat is 200 and changes nothing), refuses a change its status does
not allow (409, nothing changed), and answers 404 for a broadcast of another account or
automation without touching it. Every AWS call is checked against the function's role."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.automation_api import handler as automation_api
from tests.integration.test_broadcasts import (
    BUCKET,
    Stack,
    contact,
    stack,  # noqa: F401 (the fixture, shared)
)
from tests.support.aws import STACK_NAME, AwsCall, AwsCalls, FakeLambdaContext
from tests.support.aws import clear_cached_dependencies as clear_cached
from tests.support.events import http_api_event
from tests.support.stepfunctions import executions, wait_until
from tests.support.template import role_policy

pytestmark = pytest.mark.integration

FILE = "to,patient,slot\n" + "".join(
    f"{contact(n)},P{n},2026-12-01T10:00:00Z\n" for n in range(40, 44)
)


def change(
    broadcast_id: str, what: str, *, account: str = "acme", automation: str = "notify"
) -> dict[str, Any]:
    """``POST /automations/{account}/{name}/broadcasts/{id}/{what}`` as API Gateway sends it."""
    event = http_api_event(
        "POST",
        f"POST /automations/{{account}}/{{name}}/broadcasts/{{broadcast_id}}/{what}",
        f"/automations/{account}/{automation}/broadcasts/{broadcast_id}/{what}",
        path_parameters={"account": account, "name": automation, "broadcast_id": broadcast_id},
        headers={},
        body=None,
        authorizer={"iam": {"userArn": "arn:aws:iam::123456789012:role/operator"}},
    )
    response = automation_api.lambda_handler(event, FakeLambdaContext())
    return {**json.loads(response["body"]), "http": response["statusCode"]}


def started_while_validating(api: Stack, name: str) -> str:
    """A broadcast whose Validate task waits on the gate: still active when it is paused."""
    api.gate.clear()
    record = api.run(api.upload(name, FILE))
    wait_until(lambda: api.world.lambdas.invoked("broadcast-steps"), what="Validate to start")
    return str(record["broadcast_id"])


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """``test_broadcasts``' stack, the API's cached backend made again on this test's moto."""
    clear_cached(automation_api)
    yield request.getfixturevalue("stack")
    clear_cached(automation_api)


def test_pause_and_resume_through_the_api_each_once_and_every_row_texted_once(
    api: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = AwsCalls.install(monkeypatch)
    clear_cached(automation_api)
    broadcast_id = started_while_validating(api, "api-pause.csv")
    with calls.recording("AutomationApiFunction"):
        paused = change(broadcast_id, "pause")
        again = change(broadcast_id, "pause")
    assert (paused["http"], paused["status"], paused["attempt"]) == (200, "paused", 1)
    assert (again["http"], again["status"], again["attempt"]) == (200, "paused", 1)
    api.gate.set()
    assert api.wait_ended(broadcast_id) == "ABORTED"
    api.deliver_runs()
    assert api.world.twilio.messages() == []

    with calls.recording("AutomationApiFunction"):
        resumed = change(broadcast_id, "resume")
        resumed_again = change(broadcast_id, "resume")  # a retry: the same attempt, no new one
    assert (resumed["http"], resumed["attempt"]) == (200, 2)
    assert resumed["status"] in ("validating", "running")
    assert (resumed_again["http"], resumed_again["attempt"]) == (200, 2)
    assert api.wait_ended(broadcast_id, attempt=2) == "SUCCEEDED"
    assert len(executions(api.machine)) == 2
    api.deliver_runs()
    assert sorted(m["to"] for m in api.world.twilio.messages()) == [
        contact(n) for n in range(40, 44)
    ]

    with calls.recording("AutomationApiFunction"):
        refused = change(broadcast_id, "pause")
    assert (refused["http"], refused["error"]) == (409, "broadcast_state_conflict")
    assert f"broadcast {broadcast_id} is completed: it cannot become paused" in refused["message"]

    made = calls.of("AutomationApiFunction")
    execution = api.machine.replace(":stateMachine:", ":execution:") + f":{broadcast_id}-1"
    assert AwsCall("states:StopExecution", execution) in made
    assert AwsCall("states:StartExecution", api.machine) in made
    assert "dynamodb:UpdateItem" in {c.action for c in made}
    names = {"AppTable": api.world.table, "BroadcastsBucket": BUCKET}
    assert (
        role_policy("AutomationApiFunction", stack_name=STACK_NAME, names=names).denied(made) == []
    )
    # The check can fail: the same calls against the row function's role.
    row_role = role_policy("BroadcastRowFunction", stack_name=STACK_NAME, names=names)
    assert row_role.denied(made) != []


def test_cancel_is_for_good_and_a_refused_change_changes_nothing(api: Stack) -> None:
    broadcast_id = started_while_validating(api, "api-cancel.csv")
    assert change(broadcast_id, "pause")["status"] == "paused"
    cancelled = change(broadcast_id, "cancel")
    assert (cancelled["http"], cancelled["status"]) == (200, "cancelled")
    assert change(broadcast_id, "cancel")["http"] == 200  # a retry: still cancelled
    for refused in ("resume", "pause"):
        answer = change(broadcast_id, refused)
        assert (answer["http"], answer["error"]) == (409, "broadcast_state_conflict"), refused
        assert "is cancelled" in answer["message"]
    record = api.service.get(broadcast_id)
    assert record is not None
    assert (record["status"], record["attempt"]) == ("cancelled", 1)
    api.gate.set()
    api.wait_ended(broadcast_id)
    api.deliver_runs()
    assert api.world.twilio.messages() == []
    assert len(executions(api.machine)) == 1


def test_a_broadcast_of_another_account_or_automation_is_404_and_left_alone(
    api: Stack,
) -> None:
    broadcast_id = started_while_validating(api, "api-theirs.csv")
    for what in ("pause", "resume", "cancel"):
        for account, automation in (("globex", "notify"), ("acme", "other")):
            answer = change(broadcast_id, what, account=account, automation=automation)
            assert (answer["http"], answer["error"]) == (404, "broadcast_not_found"), what
        unknown = change("BC" + "0" * 32, what)
        assert (unknown["http"], unknown["error"]) == (404, "broadcast_not_found")
        malformed = change("../../runs", what)
        assert malformed["http"] == 404
    record = api.service.get(broadcast_id)
    assert record is not None
    assert (record["status"], record["attempt"]) == ("validating", 1)
    api.gate.set()
    assert api.wait_ended(broadcast_id) == "SUCCEEDED"
    api.deliver_runs()
    assert len(api.world.twilio.messages()) == 4
    assert [e["status"] for e in executions(api.machine)] == ["SUCCEEDED"]
