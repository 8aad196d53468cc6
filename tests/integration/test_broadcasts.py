"""Broadcasts through the real pipeline in one process: the real broadcast state machine on moto's
executor (its Distributed Map reading the rows file from moto's S3), our broadcast handlers for
its Lambda tasks, the real starter storing each row's run, the real trigger processor on moto's
stream sending through a Twilio-like server. Then the report, read from the runs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from functions.automation_api import handler as automation_api
from functions.broadcast_row import handler as broadcast_row
from functions.broadcast_steps import handler as broadcast_steps
from sms_automation.adapters.broadcast_files import S3BroadcastFiles
from sms_automation.adapters.broadcast_store import DynamoBroadcastStore
from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation.automations.start import StartRejected
from sms_automation.broadcasts.report import build_report, row_run_id
from sms_automation.broadcasts.rows import FileRejected
from sms_automation.broadcasts.service import Broadcasts, Status
from sms_automation.composition.automations import describe_run, dynamo_starter
from sms_automation.composition.broadcasts import broadcasts
from sms_automation.edge.settings import BroadcastSettings
from sms_automation.opt_out import ContactState, opted_out
from tests.support.aws import (
    STACK_NAME,
    AwsCall,
    AwsCalls,
    FakeLambdaContext,
    clear_cached_dependencies,
)
from tests.support.cli import run_cli
from tests.support.conversation_world import OUR_NUMBER, World
from tests.support.events import http_api_event
from tests.support.stepfunctions import (
    ACCOUNT_ID,
    execution_status,
    executions,
    function_arn,
    task_failures,
    wait_until,
)
from tests.support.template import role_policy

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "broadcasts-test"
NOTIFY = {
    "version": 1,
    "automations": [
        {
            "name": "notify",
            "from": OUR_NUMBER,
            "inputs": [
                {"name": "patient", "required": True},
                {"name": "slot", "type": "datetime", "required": True},
            ],
            "actions": [{"type": "send_sms", "body": "Hi %patient%, see you %slot%"}],
        }
    ],
}
OPTED_OUT = "+14155550199"


def contact(n: int) -> str:
    return f"+1415555{n:04d}"


@dataclass
class Stack:
    world: World
    machine: str
    service: Broadcasts
    gate: threading.Event
    """Cleared: the execution's Validate task waits until it is set again."""

    def upload(self, name: str, text: str) -> str:
        key = f"uploads/acme/{name}"
        boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=text.encode())
        return key

    def run(self, key: str, idempotency_key: str | None = None) -> dict[str, Any]:
        return self.service.create(
            "acme", "notify", key, requested_by="test", idempotency_key=idempotency_key
        )

    def wait_ended(self, broadcast_id: str, attempt: int = 1) -> str:
        arn = self.machine.replace(":stateMachine:", ":execution:") + f":{broadcast_id}-{attempt}"
        try:
            return str(
                wait_until(
                    lambda: (s := execution_status(arn)) != "RUNNING" and s,
                    timeout=60,
                    what="the broadcast's execution",
                )
            )
        except AssertionError as timed_out:
            raise AssertionError(f"{timed_out}; its failed tasks: {task_failures(arn)}") from None

    def deliver_runs(self) -> None:
        records = self.world.stream.inserts_of_inbound_messages()
        if records:
            assert self.world.deliver(records) == {"batchItemFailures": []}

    def report(self, broadcast_id: str) -> dict[str, Any]:
        record = self.service.get(broadcast_id)
        assert record is not None
        client = boto3.client("dynamodb")
        return build_report(
            record,
            self.service.started_rows(record),
            lambda run_id: describe_run(self.world.table, client, run_id),
        )


@pytest.fixture
def stack(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    # As template.yaml's BroadcastsBucket: versioned (a broadcast pins its file's version).
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    text = (ROOT / "statemachines" / "broadcast.asl.json").read_text("utf-8")
    for name, value in {
        "BroadcastStepsFunctionArn": function_arn("broadcast-steps"),
        "BroadcastRowFunctionArn": function_arn("broadcast-row"),
        "BroadcastsBucket": BUCKET,
    }.items():
        text = text.replace("${" + name + "}", value)
    # The rows run as EXPRESS children (per request, not per transition); moto's ASL parser
    # knows only STANDARD children, which behave the same for one Lambda task.
    assert '"ExecutionType": "EXPRESS"' in text
    text = text.replace('"ExecutionType": "EXPRESS"', '"ExecutionType": "STANDARD"')
    machine = boto3.client("stepfunctions").create_state_machine(
        name=f"{STACK_NAME}-broadcast",  # as template.yaml names it
        definition=text,
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/broadcast",
        type="STANDARD",
    )["stateMachineArn"]
    monkeypatch.setenv("BROADCASTS_BUCKET", BUCKET)
    monkeypatch.setenv("BROADCAST_STATE_MACHINE_ARN", machine)
    for module in (broadcast_row, broadcast_steps):
        clear_cached_dependencies(module)
    gate = threading.Event()
    gate.set()

    def gated_steps(event: dict[str, Any], context: Any) -> Any:
        assert gate.wait(timeout=30), "the test never opened the gate"
        return broadcast_steps.lambda_handler(event, context)

    world.lambdas.handlers["broadcast-steps"] = gated_steps
    world.lambdas.handlers["broadcast-row"] = broadcast_row.lambda_handler
    world.push(yaml.safe_dump(NOTIFY))
    DynamoContactStore(world.table, boto3.client("dynamodb")).record(
        ContactState("acme", OUR_NUMBER, OPTED_OUT, True, "STOP", "2026-01-01T00:00:00Z", "SM1")
    )
    service = broadcasts(
        BroadcastSettings.from_environ(
            {
                "TABLE_NAME": world.table,
                "BROADCASTS_BUCKET": BUCKET,
                "BROADCAST_STATE_MACHINE_ARN": machine,
            }
        ),
        dynamodb=boto3.client("dynamodb"),
        s3=s3,
        states=boto3.client("stepfunctions"),
    )
    yield Stack(world, machine, service, gate)
    # Every execution the test started ends within it: moto runs one on a thread of its own,
    # which would otherwise go on calling this test's functions (and writing their log lines)
    # during the next test.
    gate.set()
    wait_until(
        lambda: all(e["status"] != "RUNNING" for e in executions(machine)),
        timeout=60,
        what="the test's broadcast executions to end",
    )
    for module in (broadcast_row, broadcast_steps):
        clear_cached_dependencies(module)


CSV = (
    "to,patient,slot\n"
    f"{contact(1)},Ann,2026-12-01T10:00:00Z\n"
    f"{contact(2)},Bob,tomorrow\n"  # line 3: not a datetime
    f"{contact(3)},Cy,2026-12-01T11:00:00Z\n"
    f"{OPTED_OUT},Dee,2026-12-01T12:00:00Z\n"  # opted out: skipped, counted
    "555,Eve,2026-12-01T13:00:00Z\n"  # line 6: not E.164
    f"{contact(1)},Ann again,2026-12-01T10:00:00Z\n"  # repeated contact: skipped
)


def test_every_valid_row_is_started_once_and_the_report_counts_every_row(stack: Stack) -> None:
    record = stack.run(stack.upload("list.csv", CSV))
    assert stack.wait_ended(record["broadcast_id"]) == "SUCCEEDED"
    stack.deliver_runs()

    assert sorted(m["to"] for m in stack.world.twilio.messages()) == [contact(1), contact(3)]
    done = stack.service.get(record["broadcast_id"])
    assert done is not None
    assert done["status"] == Status.COMPLETED
    assert done["counts"] == {"rows": 6, "valid": 2, "invalid": 2, "duplicates": 1, "opted_out": 1}
    assert [bad["line"] for bad in done["bad_rows"]] == [3, 6]
    assert "variables.slot" in done["bad_rows"][0]["problems"][0]
    report = stack.report(record["broadcast_id"])
    assert {
        k: report[k] for k in ("rows", "invalid", "opted_out", "skipped", "started", "sent")
    } == {"rows": 6, "invalid": 2, "opted_out": 1, "skipped": 1, "started": 2, "sent": 2}


def test_a_retried_start_and_a_second_execution_text_nobody_twice(stack: Stack) -> None:
    """The same key twice (one broadcast), then a second execution over the same rows at the
    same time as the first (a redrive racing the original): every row offered twice, one SMS
    each."""
    stack.gate.clear()
    key = stack.upload(
        "again.jsonl",
        "".join(
            json.dumps(
                {
                    "to": contact(n),
                    "variables": {"patient": f"P{n}", "slot": "2026-12-01T10:00:00Z"},
                }
            )
            + "\n"
            for n in range(10, 15)
        ),
    )
    first = stack.run(key, idempotency_key="monday")
    again = stack.run(key, idempotency_key="monday")
    assert again["broadcast_id"] == first["broadcast_id"]
    boto3.client("stepfunctions").start_execution(
        stateMachineArn=stack.machine,
        name=f"{first['broadcast_id']}-redrive",
        input=json.dumps({"broadcast_id": first["broadcast_id"]}),
    )
    stack.gate.set()
    assert stack.wait_ended(first["broadcast_id"]) == "SUCCEEDED"
    arn = (
        stack.machine.replace(":stateMachine:", ":execution:") + f":{first['broadcast_id']}-redrive"
    )
    wait_until(lambda: execution_status(arn) == "SUCCEEDED", timeout=60, what="the redrive")
    stack.deliver_runs()
    sent = sorted(m["to"] for m in stack.world.twilio.messages())
    assert sent == [contact(n) for n in range(10, 15)]
    offered = [e["item"]["row"] for e in stack.world.lambdas.succeeded("broadcast-row")]
    assert sorted(offered) == sorted([1, 2, 3, 4, 5] * 2)


def test_two_workers_on_one_row_at_the_same_moment_start_one_run(stack: Stack) -> None:
    """Two row workers at once (as a Map child and its retry may be), then the execution
    itself offers the same row: one run, one SMS."""
    stack.gate.clear()
    key = stack.upload("one.csv", f"to,patient,slot\n{contact(20)},Ann,2026-12-01T10:00:00Z\n")
    record = stack.run(key)
    item = {
        "row": 2,
        "to": contact(20),
        "from": None,
        "variables": {"patient": "Ann", "slot": "2026-12-01T10:00:00Z"},
    }
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        barrier.wait()
        result = broadcast_row.lambda_handler(
            {"broadcast_id": record["broadcast_id"], "item": item}, FakeLambdaContext()
        )
        outcomes.append(result["outcome"])

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already_started", "started"]
    stack.gate.set()
    assert stack.wait_ended(record["broadcast_id"]) == "SUCCEEDED"
    [offered] = stack.world.lambdas.succeeded("broadcast-row")
    assert offered["item"]["row"] == 2
    stack.deliver_runs()
    assert [m["to"] for m in stack.world.twilio.messages()] == [contact(20)]
    run_id = row_run_id("acme", record["broadcast_id"], 2)
    assert describe_run(stack.world.table, boto3.client("dynamodb"), run_id) is not None


def test_a_paused_broadcast_starts_no_rows_until_resumed(stack: Stack) -> None:
    key = stack.upload(
        "paused.csv",
        "to,patient,slot\n"
        + "".join(f"{contact(n)},P{n},2026-12-01T10:00:00Z\n" for n in range(30, 34)),
    )
    stack.gate.clear()
    record = stack.run(key)
    wait_until(lambda: stack.world.lambdas.invoked("broadcast-steps"), what="Validate to start")
    paused = stack.service.pause(record["broadcast_id"])
    assert paused["status"] == "paused"
    stack.gate.set()
    stack.wait_ended(record["broadcast_id"])
    stack.deliver_runs()
    assert stack.world.twilio.messages() == []
    resumed = stack.service.resume(record["broadcast_id"])
    assert resumed["attempt"] == 2
    assert stack.wait_ended(record["broadcast_id"], attempt=2) == "SUCCEEDED"
    stack.deliver_runs()
    assert sorted(m["to"] for m in stack.world.twilio.messages()) == [
        contact(n) for n in range(30, 34)
    ]
    assert stack.service.get(record["broadcast_id"])["status"] == "completed"


def test_the_broadcast_functions_make_only_the_calls_their_roles_grant(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validate (upload read, contacts, rows written, record updated), every row's start and
    Finish, each call against the function's role in template.yaml (moto grants everything)."""
    calls = AwsCalls.install(monkeypatch)
    for module in (broadcast_row, broadcast_steps):
        clear_cached_dependencies(module)  # new clients, through the recording boto3.client
    handlers = stack.world.lambdas.handlers
    handlers["broadcast-steps"] = calls.as_function(
        "BroadcastStepsFunction", broadcast_steps.lambda_handler
    )
    handlers["broadcast-row"] = calls.as_function(
        "BroadcastRowFunction", broadcast_row.lambda_handler
    )
    record = stack.run(stack.upload("perms.csv", CSV))
    assert stack.wait_ended(record["broadcast_id"]) == "SUCCEEDED"
    names = {"AppTable": stack.world.table, "BroadcastsBucket": BUCKET}
    steps, rows = calls.of("BroadcastStepsFunction"), calls.of("BroadcastRowFunction")
    assert AwsCall("s3:GetObjectVersion", f"arn:aws:s3:::{BUCKET}/uploads/acme/perms.csv") in steps
    assert (
        AwsCall("s3:PutObject", f"arn:aws:s3:::{BUCKET}/rows/{record['broadcast_id']}.json")
        in steps
    )
    assert {c.action for c in rows} == {"dynamodb:GetItem", "dynamodb:PutItem"}
    for function, made in (("BroadcastStepsFunction", steps), ("BroadcastRowFunction", rows)):
        policy = role_policy(function, stack_name=STACK_NAME, names=names)
        assert policy.denied(made) == [], function
    # The check can fail: the row function's calls against the steps function's role.
    steps_role = role_policy("BroadcastStepsFunction", stack_name=STACK_NAME, names=names)
    assert steps_role.denied(rows) != []


def test_the_cli_uploads_starts_follows_and_reports(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("SMS_AUTOMATION_TABLE", stack.world.table)
    monkeypatch.setenv("SMS_AUTOMATION_BROADCASTS_BUCKET", BUCKET)
    monkeypatch.setenv("SMS_AUTOMATION_BROADCAST_STATE_MACHINE_ARN", stack.machine)
    file = tmp_path / "Monday list.csv"
    file.write_text(CSV, "utf-8")

    code, out, err = run_cli(capsys, "broadcast", "start", "acme", "notify", str(file))
    assert code == 0, err
    broadcast_id = out.splitlines()[0]
    assert "[##############################] 2/2 rows  completed" in err
    assert "rows: rows 6, valid 2, invalid 2, duplicates 1, opted_out 1" in out
    assert "  line 3: variables.slot" in out
    [upload] = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="uploads/acme/")["Contents"]
    assert upload["Key"].endswith("-Monday-list.csv")
    stack.deliver_runs()

    code, out, _ = run_cli(capsys, "broadcast", "report", broadcast_id, "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["started"], report["sent"], report["invalid"], report["skipped"]) == (2, 2, 2, 1)
    code, out, _ = run_cli(capsys, "broadcast", "report", broadcast_id)
    assert "  sent: 2" in out
    clear_cached_dependencies(automation_api)
    answered = api_call("GET", f"/{broadcast_id}/report")  # the API's route: the same report
    assert (answered.pop("http"), answered) == (200, report)

    code, _, err = run_cli(capsys, "broadcast", "pause", broadcast_id)
    assert code == 1
    assert f"broadcast {broadcast_id} is completed: it cannot become paused" in err
    code, _, err = run_cli(capsys, "broadcast", "status", "BC" + "0" * 32)
    assert code == 1
    assert "there is no broadcast" in err
    code, _, err = run_cli(capsys, "broadcast", "start", "acme", "notify", str(tmp_path / "a.xlsx"))
    assert code == 2
    assert ".csv or .jsonl" in err


def api_call(method: str, suffix: str = "", body: Any = None) -> dict[str, Any]:
    template = "/automations/{account}/{name}/broadcasts" + (
        "/{broadcast_id}" + ("/report" if suffix.endswith("/report") else "") if suffix else ""
    )
    parameters = {"account": "acme", "name": "notify"}
    if suffix:
        parameters["broadcast_id"] = suffix.split("/")[1]
    event = http_api_event(
        method,
        f"{method} {template}",
        f"/automations/acme/notify/broadcasts{suffix}",
        path_parameters=parameters,
        headers={"Content-Type": "application/json"},
        body=None if body is None else json.dumps(body),
        authorizer={"iam": {"userArn": "arn:aws:iam::123456789012:role/marketing"}},
    )
    response = automation_api.lambda_handler(event, FakeLambdaContext())
    return {**json.loads(response["body"]), "http": response["statusCode"]}


def test_the_api_starts_a_broadcast_from_a_key_and_reads_it_with_only_its_roles_calls(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = AwsCalls.install(monkeypatch)
    clear_cached_dependencies(automation_api)
    key = stack.upload("api.csv", CSV)
    with calls.recording("AutomationApiFunction"):
        started = api_call("POST", body={"key": key, "idempotency_key": "api-1"})
        assert (started["http"], started["created"]) == (201, True)
        again = api_call("POST", body={"key": key, "idempotency_key": "api-1"})
        assert (again["http"], again["broadcast_id"]) == (200, started["broadcast_id"])
    broadcast_id = started["broadcast_id"]
    assert stack.wait_ended(broadcast_id) == "SUCCEEDED"
    stack.deliver_runs()
    with calls.recording("AutomationApiFunction"):
        status = api_call("GET", f"/{broadcast_id}")
        report = api_call("GET", f"/{broadcast_id}/report")
    assert (status["http"], status["counts"]["valid"]) == (200, 2)
    assert (report["http"], report["sent"], report["invalid"]) == (200, 2, 2)
    made = calls.of("AutomationApiFunction")
    assert {
        "states:StartExecution",
        "states:DescribeExecution",
        "s3:GetObject",
        "s3:ListBucketVersions",
    } <= {c.action for c in made}
    names = {"AppTable": stack.world.table, "BroadcastsBucket": BUCKET}
    policy = role_policy("AutomationApiFunction", stack_name=STACK_NAME, names=names)
    assert policy.denied(made) == []
    clear_cached_dependencies(automation_api)


def test_a_cli_start_retried_with_its_key_is_the_same_broadcast(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("SMS_AUTOMATION_TABLE", stack.world.table)
    monkeypatch.setenv("SMS_AUTOMATION_BROADCASTS_BUCKET", BUCKET)
    monkeypatch.setenv("SMS_AUTOMATION_BROADCAST_STATE_MACHINE_ARN", stack.machine)
    file = tmp_path / "list.csv"
    file.write_text(CSV, "utf-8")
    argv = ("broadcast", "start", "acme", "notify", str(file), "--idempotency-key", "k-1")
    code, first, err = run_cli(capsys, *argv)
    assert code == 0, err
    code, again, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert again.splitlines()[0] == first.splitlines()[0]
    stack.deliver_runs()
    assert sorted(m["to"] for m in stack.world.twilio.messages()) == [contact(1), contact(3)]


def test_a_start_from_another_accounts_upload_is_refused_and_texts_nobody(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API's IAM lets a caller start acme's automations; the file must be acme's too: a key
    under another account's prefix (its contacts) is a 400, nothing stored, nobody texted."""
    clear_cached_dependencies(automation_api)
    theirs = "uploads/other/list.csv"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=theirs, Body=CSV.encode())
    for key in (theirs, "uploads/acme-other/list.csv", "uploads/list.csv"):
        refused = api_call("POST", body={"key": key, "idempotency_key": "theirs"})
        assert refused["http"] == 400, refused
        assert "uploads/acme/" in json.dumps(refused)
    with pytest.raises(StartRejected):
        stack.run(theirs)
    started = boto3.client("stepfunctions").list_executions(stateMachineArn=stack.machine)
    assert started["executions"] == []
    stack.deliver_runs()
    assert stack.world.twilio.messages() == []
    clear_cached_dependencies(automation_api)


class NoEngine:
    """The engine's calls, recorded: the tests below run the execution's tasks themselves."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def start(self, execution_name: str, broadcast_id: str) -> None:
        self.calls.append(("start", execution_name))

    def stop(self, execution_name: str) -> None:
        self.calls.append(("stop", execution_name))

    def progress(self, execution_name: str) -> dict[str, Any]:
        return {}


class CancelAfterRead:
    """The real store; once a validate's RUNNING write found the broadcast paused, the next
    read is followed at once by an operator's cancel (the cancel lands between the two)."""

    def __init__(self, store: DynamoBroadcastStore) -> None:
        self._store = store
        self._armed = False

    def put_new(self, record: Any) -> Any:
        return self._store.put_new(record)

    def get(self, broadcast_id: str) -> Any:
        record = self._store.get(broadcast_id)
        if self._armed:
            self._armed = False
            self._store.transition(broadcast_id, to=Status.CANCELLED, allowed={Status.PAUSED})
        return record

    def transition(self, broadcast_id: str, *, to: Status, allowed: Any, **fields: Any) -> Any:
        done = self._store.transition(broadcast_id, to=to, allowed=allowed, **fields)
        self._armed = done is None and to is Status.RUNNING
        return done


def service_of(
    stack: Stack, store: Any = None, monotonic: Any = time.monotonic
) -> tuple[Broadcasts, NoEngine]:
    dynamodb = boto3.client("dynamodb")
    contacts = DynamoContactStore(stack.world.table, dynamodb)
    engine = NoEngine()
    service = Broadcasts(
        store=store or DynamoBroadcastStore(stack.world.table, dynamodb),
        files=S3BroadcastFiles(BUCKET, boto3.client("s3")),
        engine=engine,
        starter=dynamo_starter(stack.world.table, dynamodb),
        opted_out=lambda account, sender, to: (
            opted_out(contacts, account, [sender], to) is not None
        ),
        clock=lambda: datetime.now(UTC),
        monotonic=monotonic,
    )
    return service, engine


def test_a_cancel_landing_while_validate_keeps_a_pause_stays_cancelled(stack: Stack) -> None:
    store = CancelAfterRead(DynamoBroadcastStore(stack.world.table, boto3.client("dynamodb")))
    service, _ = service_of(stack, store)
    record = service.create("acme", "notify", stack.upload("race.csv", CSV), requested_by="t")
    broadcast_id = record["broadcast_id"]
    service.pause(broadcast_id)
    output = service.validate(broadcast_id)
    assert output["start_rows"] is False
    done = service.get(broadcast_id)
    assert done is not None
    assert done["status"] == Status.CANCELLED
    assert done["counts"]["valid"] == 2


def test_a_resume_right_after_a_pause_starts_the_rows_a_warm_worker_saw_paused(
    stack: Stack,
) -> None:
    """The row worker read the broadcast paused (cached); the operator resumes within the
    cache's seconds: attempt 2's rows are started, not answered "paused" (and lost)."""
    worker, _ = service_of(stack, monotonic=lambda: 100.0)  # its cache never ages
    operator, _ = service_of(stack)
    record = operator.create("acme", "notify", stack.upload("quick.csv", CSV), requested_by="t")
    broadcast_id = record["broadcast_id"]
    operator.validate(broadcast_id)
    [item, *_] = S3BroadcastFiles(BUCKET, boto3.client("s3")).read_rows(f"rows/{broadcast_id}.json")
    operator.pause(broadcast_id)
    assert worker.start_row(broadcast_id, item).outcome == "paused"
    operator.resume(broadcast_id)
    assert worker.start_row(broadcast_id, item).outcome == "started"


def test_a_validate_that_keeps_failing_leaves_the_broadcast_failed_with_a_reason(
    stack: Stack,
) -> None:
    """Validate's retries spent (here: its status write refused every time), the execution
    marks the broadcast failed, never leaving it "validating". Retries shortened to one."""
    text = (ROOT / "statemachines" / "broadcast.asl.json").read_text("utf-8")
    for name, value in {
        "BroadcastStepsFunctionArn": function_arn("broadcast-steps"),
        "BroadcastRowFunctionArn": function_arn("broadcast-row"),
        "BroadcastsBucket": BUCKET,
    }.items():
        text = text.replace("${" + name + "}", value)
    text = text.replace('"ExecutionType": "EXPRESS"', '"ExecutionType": "STANDARD"')
    text = text.replace('"MaxAttempts": 5', '"MaxAttempts": 1')
    states = boto3.client("stepfunctions")
    machine = states.create_state_machine(
        name="broadcast-short-retries",
        definition=text,
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/broadcast",
        type="STANDARD",
    )["stateMachineArn"]

    def validate_refused(event: dict[str, Any], context: Any) -> Any:
        if event.get("step") == "validate":
            raise RuntimeError("ValidationException: Item size has exceeded the maximum")
        return broadcast_steps.lambda_handler(event, context)

    stack.world.lambdas.handlers["broadcast-steps"] = validate_refused
    service, _ = service_of(stack)
    record = service.create("acme", "notify", stack.upload("stuck.csv", CSV), requested_by="t")
    broadcast_id = record["broadcast_id"]
    states.start_execution(
        stateMachineArn=machine, name="stuck", input=json.dumps({"broadcast_id": broadcast_id})
    )
    arn = machine.replace(":stateMachine:", ":execution:") + ":stuck"
    wait_until(lambda: execution_status(arn) != "RUNNING", timeout=60, what="the execution")
    assert execution_status(arn) == "FAILED"
    done = service.get(broadcast_id)
    assert done is not None
    assert done["status"] == Status.FAILED
    assert "RuntimeError" in done["failure"]
    assert "Item size" not in done["failure"]  # the cause (may hold a contact's data) is not kept
    stack.deliver_runs()
    assert stack.world.twilio.messages() == []


EDITED = f"to,patient,slot\n{contact(7)},Gus,2026-12-01T10:00:00Z\n"


def test_a_retry_with_an_edited_file_of_the_same_name_is_a_conflict_and_sends_the_first(
    stack: Stack,
) -> None:
    """The CLI names the upload from the idempotency key: a retry with an edited file overwrites
    the object. The broadcast pinned the file it was started with: the retry is a 409 naming
    the difference, and validation (not yet run) reads the first file, not the edited one."""
    clear_cached_dependencies(automation_api)
    stack.gate.clear()
    key = stack.upload("same-name.csv", CSV)
    first = api_call("POST", body={"key": key, "idempotency_key": "edited"})
    assert first["http"] == 201
    same = api_call("POST", body={"key": key, "idempotency_key": "edited"})
    assert (same["http"], same["broadcast_id"]) == (200, first["broadcast_id"])
    stack.upload("same-name.csv", EDITED)
    edited = api_call("POST", body={"key": key, "idempotency_key": "edited"})
    assert edited["http"] == 409, edited
    assert "ETag" in edited["message"]
    assert "changed" in edited["message"]
    stack.gate.set()
    assert stack.wait_ended(first["broadcast_id"]) == "SUCCEEDED"
    stack.deliver_runs()
    assert sorted(m["to"] for m in stack.world.twilio.messages()) == [contact(1), contact(3)]
    clear_cached_dependencies(automation_api)


def test_validation_reads_the_file_the_broadcast_was_started_with(stack: Stack) -> None:
    """The object replaced between the start and validation (no retry at all): the rows are
    the pinned version's."""
    stack.gate.clear()
    record = stack.run(stack.upload("replaced.csv", CSV))
    stack.upload("replaced.csv", EDITED)
    stack.gate.set()
    assert stack.wait_ended(record["broadcast_id"]) == "SUCCEEDED"
    stack.deliver_runs()
    assert sorted(m["to"] for m in stack.world.twilio.messages()) == [contact(1), contact(3)]
    done = stack.service.get(record["broadcast_id"])
    assert done is not None
    assert done["counts"]["rows"] == 6


def test_in_a_bucket_without_versions_the_etag_pins_the_file(world: World) -> None:
    """Where the bucket keeps no versions (a local stack), S3 checks the ETag on the read: a
    replaced file is refused (the broadcast fails) rather than read."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="plain")
    files = S3BroadcastFiles("plain", s3)
    s3.put_object(Bucket="plain", Key="uploads/acme/a.csv", Body=CSV.encode())
    identity = files.identify("uploads/acme/a.csv")
    assert identity.version == ""
    assert identity.etag
    assert b"".join(files.chunks("uploads/acme/a.csv", identity)) == CSV.encode()
    s3.put_object(Bucket="plain", Key="uploads/acme/a.csv", Body=EDITED.encode())
    with pytest.raises(FileRejected, match="replaced"):
        b"".join(files.chunks("uploads/acme/a.csv", identity))
    with pytest.raises(FileRejected, match="no file"):
        files.identify("uploads/acme/none.csv")
