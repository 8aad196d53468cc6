"""The automations API handler on API Gateway proxy events, against moto: a started run is
stored once and run by the real trigger processor from the stream (prompt, reply,
continuation); every refused request stores nothing; DynamoDB refusing the write for now is a
503 (retry), for good (a role or table misconfigured) a 500 not to be retried."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from functions.automation_api import handler as api
from tests.resilience.faults import CONNECTION_ERROR, AwsFaults
from tests.support.aws import (
    ACCOUNT_ID,
    REGION,
    STACK_NAME,
    AwsCall,
    AwsCalls,
    FakeLambdaContext,
    clear_cached_dependencies,
)
from tests.support.conversation_world import ALICE, OUR_NUMBER, World
from tests.support.events import automations_api_event
from tests.support.template import load_template, role_policy

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/booking"
FUNCTION = "AutomationApiFunction"  # its logical id in template.yaml
TRIGGERS = {
    "version": 1,
    "automations": [
        {
            "name": "appointment-reminder",
            "from": OUR_NUMBER,
            "inputs": [{"name": "patient", "required": True}],
            "actions": [
                {
                    "type": "wait_for_reply",
                    "prompt": "Hi %patient%, reply YES to confirm",
                    "timeout": "1h",
                    "expect": ["yes", "no"],
                    "on_reply": [{"type": "send_sms", "body": "Thanks, %answer.body%"}],
                },
            ],
        },
        {
            "name": "paused",
            "enabled": False,
            "from": OUR_NUMBER,
            "actions": [{"type": "send_sms", "body": "never"}],
        },
    ],
}
VALID = {"to": ALICE, "variables": {"patient": "Ann"}}


@pytest.fixture
def stack(world: World) -> Iterator[World]:
    world.push(yaml.safe_dump(TRIGGERS))
    clear_cached_dependencies(api)
    yield world
    clear_cached_dependencies(api)


def call(
    method: str = "POST",
    *,
    account: str = "acme",
    name: str = "appointment-reminder",
    body: Any = VALID,
    raw: str | None = None,
    headers: dict[str, str] | None = None,
    run_id: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    event = automations_api_event(
        method,
        account,
        name,
        run_id=run_id,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=raw if raw is not None else (json.dumps(body) if method == "POST" else None),
        raw_query=urlencode(query or {}),
        caller_arn=ROLE,
    )
    response = api.lambda_handler(event, FakeLambdaContext())
    return {**response, "json": json.loads(response["body"])}


def stored_runs(world: World) -> list[dict[str, Any]]:
    return [
        r
        for r in world.stream.new_records()
        if r["dynamodb"].get("NewImage", {}).get("kind", {}).get("S") == "automation_run"
    ]


def test_api_start_runs_prompt_reply_and_reports_the_run(stack: World) -> None:
    started = call(headers={"Idempotency-Key": "booking-1"})
    assert started["statusCode"] == 201
    run_id = started["json"]["run_id"]
    assert started["headers"]["Location"] == (
        f"/automations/acme/appointment-reminder/runs/{run_id}"
    )

    queued = call("GET", run_id=run_id)
    assert queued["statusCode"] == 200
    assert queued["json"]["status"] == "queued"
    assert queued["json"]["requested_by"] == ROLE
    assert queued["json"]["source"] == "api"

    assert stack.deliver() == {"batchItemFailures": []}
    stack.registered(run_id, "appointment-reminder/1")
    assert stack.bodies() == ["Hi Ann, reply YES to confirm"]
    assert call("GET", run_id=run_id)["json"]["status"] == "paused"

    stack.text("yes")
    assert stack.finished(run_id, "appointment-reminder/1") == "SUCCEEDED"
    assert stack.bodies() == ["Hi Ann, reply YES to confirm", "Thanks, yes"]
    done = call("GET", run_id=run_id)["json"]
    assert done["status"] == "completed"
    assert done["ended"] is True
    assert [c["status"] for c in done["conversations"]] == ["replied"]

    listed = call("GET", query={"limit": "10"})
    assert listed["statusCode"] == 200
    assert [r["run_id"] for r in listed["json"]["runs"]] == [run_id]


def test_api_retry_with_the_same_key_answers_the_same_run(stack: World) -> None:
    first = call(body={**VALID, "idempotency_key": "booking-2"})
    again = call(headers={"Idempotency-Key": "booking-2"})
    assert (first["statusCode"], again["statusCode"]) == (201, 200)
    assert again["json"]["run_id"] == first["json"]["run_id"]
    assert again["headers"]["Location"] == first["headers"]["Location"]
    assert len(stored_runs(stack)) == 1


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"account": "nobody"}, 404, "account_not_found"),
        ({"name": "no-such-automation"}, 404, "automation_not_found"),
        ({"name": "paused"}, 409, "automation_disabled"),
        ({"body": {"to": "0123", "variables": {"colour": "red"}}}, 400, "invalid_request"),
        ({"raw": "{not json"}, 400, "invalid_request"),
        ({"raw": json.dumps({**VALID, "pad": "x" * 70_000})}, 413, "payload_too_large"),
        ({"headers": {"Content-Type": "text/plain"}}, 415, "unsupported_media_type"),
        (
            {"body": {**VALID, "idempotency_key": "a"}, "headers": {"Idempotency-Key": "b"}},
            400,
            "invalid_request",
        ),
    ],
    ids=[
        "unknown account",
        "unknown automation",
        "disabled",
        "invalid",
        "not json",
        "too large",
        "not json media type",
        "key mismatch",
    ],
)
def test_api_refused_start_stores_nothing(
    stack: World, overrides: dict[str, Any], status: int, error: str
) -> None:
    response = call(**overrides)
    assert response["statusCode"] == status
    assert response["json"]["error"] == error
    assert stored_runs(stack) == []
    assert stack.twilio.messages() == []


def test_api_invalid_request_names_every_problem(stack: World) -> None:
    response = call(body={"to": "0123", "variables": {"colour": "red"}})
    assert [p["field"] for p in response["json"]["problems"]] == [
        "to",
        "variables.colour",
        "variables.patient",
    ]


def test_api_same_key_different_request_is_409_and_stores_one(stack: World) -> None:
    assert call(body={**VALID, "idempotency_key": "k"})["statusCode"] == 201
    conflict = call(body={"to": ALICE, "variables": {"patient": "Bob"}, "idempotency_key": "k"})
    assert conflict["statusCode"] == 409
    assert conflict["json"]["error"] == "idempotency_conflict"
    assert len(stored_runs(stack)) == 1


def test_api_unknown_run_is_404(stack: World) -> None:
    started = call()["json"]["run_id"]
    assert call("GET", run_id="RU" + "0" * 32)["statusCode"] == 404
    assert call("GET", run_id="not-a-run-id")["statusCode"] == 404
    assert call("GET", run_id=started, name="paused")["statusCode"] == 404
    assert call("GET", run_id=started, account="nobody")["statusCode"] == 404


def test_api_dynamodb_refusing_a_read_is_503(stack: World, monkeypatch: pytest.MonkeyPatch) -> None:
    started = call()["json"]["run_id"]
    AwsFaults.install(monkeypatch).fail(
        "dynamodb", "GetItem", error="ProvisionedThroughputExceededException", times=10
    )
    clear_cached_dependencies(api)
    response = call("GET", run_id=started)
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "2"


def errors_logged(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The function's ERROR lines written since the last read."""
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    return [line for line in lines if line["level"] == "ERROR"]


@pytest.mark.parametrize(
    "error",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "InternalServerError",
        "ServiceUnavailable",
        CONNECTION_ERROR,
    ],
)
def test_api_dynamodb_failing_for_now_is_503_and_nothing_is_stored(
    stack: World, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    AwsFaults.install(monkeypatch).fail("dynamodb", "PutItem", error=error)
    clear_cached_dependencies(api)  # a new client, through the faulty boto3.client
    response = call()
    assert (response["statusCode"], response["json"]["error"]) == (503, "storage_unavailable")
    assert response["headers"]["Retry-After"] == "2"
    assert stored_runs(stack) == []


@pytest.mark.parametrize(
    "error", ["AccessDeniedException", "ResourceNotFoundException", "ValidationException"]
)
def test_api_dynamodb_refusing_the_write_for_good_is_500_not_retried_and_nothing_is_stored(
    stack: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: str
) -> None:
    faults = AwsFaults.install(monkeypatch)
    faults.fail("dynamodb", "PutItem", error=error)
    clear_cached_dependencies(api)
    capsys.readouterr()
    response = call()
    assert faults.pending() == 0
    assert (response["statusCode"], response["json"]["error"]) == (500, "storage_failed")
    assert "Retry-After" not in response["headers"]
    assert error in response["json"]["message"]
    assert "nothing was started: do not retry" in response["json"]["message"]
    [logged] = errors_logged(capsys)
    assert (logged["error_code"], logged["reason"]) == (error, "storage_failed")
    assert stored_runs(stack) == []


def test_api_dynamodb_refusing_a_read_for_good_is_500_and_nothing_is_stored(
    stack: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The account's read (the role lacks GetItem): a 500 naming the code, the write not tried."""
    faults = AwsFaults.install(monkeypatch)
    faults.fail("dynamodb", "GetItem", error="AccessDeniedException")
    clear_cached_dependencies(api)
    capsys.readouterr()
    response = call()
    assert (response["statusCode"], response["json"]["error"]) == (500, "storage_failed")
    assert "AccessDeniedException" in response["json"]["message"]
    [logged] = errors_logged(capsys)
    assert logged["error_code"] == "AccessDeniedException"
    assert stored_runs(stack) == []


def test_api_makes_only_the_calls_its_role_grants(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every route over a run with a log, a delivery and a conversation: a start, its retry,
    the run, the list; each call's action on the table or index it names, against the role."""
    calls = AwsCalls.install(monkeypatch)
    clear_cached_dependencies(api)  # a new client, through the recording boto3.client
    with calls.recording(FUNCTION):
        run_id = call(headers={"Idempotency-Key": "booking-5"})["json"]["run_id"]
        assert call(headers={"Idempotency-Key": "booking-5"})["statusCode"] == 200
    assert stack.deliver() == {"batchItemFailures": []}
    stack.registered(run_id, "appointment-reminder/1")
    stack.text("yes")
    assert stack.finished(run_id, "appointment-reminder/1") == "SUCCEEDED"

    with calls.recording(FUNCTION):
        assert call("GET", run_id=run_id)["json"]["status"] == "completed"
        assert [r["status"] for r in call("GET")["json"]["runs"]] == ["completed"]

    made = calls.of(FUNCTION)
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{stack.table}"
    index = AwsCall("dynamodb:Query", f"{table}/index/gsi2")
    routes = {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}
    assert routes <= {c.action for c in made}, "a route was skipped"
    assert index in made, "the list of runs queries the automation's run index"
    names = {"AppTable": stack.table}
    assert role_policy(FUNCTION, stack_name=STACK_NAME, names=names).denied(made) == []

    # The check can fail: the same calls against a role granting the table but not its index.
    template = copy.deepcopy(load_template())
    statement = template["Resources"][FUNCTION]["Properties"]["Policies"][0]["Statement"][0]
    statement["Resource"] = [{"Fn::GetAtt": ["AppTable", "Arn"]}]
    table_only = role_policy(FUNCTION, stack_name=STACK_NAME, names=names, template=template)
    assert table_only.denied(made) == [index]


def emf_counts(output: str) -> list[tuple[str, dict[str, str]]]:
    """(metric, its dimensions and their values) of every EMF metric in the handler's output."""
    counted = []
    for line in output.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            names = {name for dimensions in directive["Dimensions"] for name in dimensions}
            for metric in directive["Metrics"]:
                counted.append((metric["Name"], {name: document[name] for name in names}))
    return counted


def test_api_counts_starts_and_refusals_by_reason_as_the_dashboard_reads_them(
    stack: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The dashboard's widgets SEARCH ``{SmsAutomation,Reason,service}`` for
    AutomationStartsRejected and read AutomationRunsStarted by ``service`` (template.yaml)."""
    capsys.readouterr()
    assert call()["statusCode"] == 201
    assert call(name="no-such-automation")["statusCode"] == 404
    faults = AwsFaults.install(monkeypatch)
    faults.fail("dynamodb", "PutItem", error="AccessDeniedException")
    clear_cached_dependencies(api)
    assert call(body={**VALID, "idempotency_key": "other"})["statusCode"] == 500

    service = {"service": "automation-api"}
    assert emf_counts(capsys.readouterr().out) == [
        ("AutomationRunsStarted", service),
        ("AutomationStartsRejected", service | {"Reason": "automation_not_found"}),
        ("AutomationStartsRejected", service | {"Reason": "storage_failed"}),
    ]
