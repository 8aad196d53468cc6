"""Cold start of each function: a fresh interpreter imports the handler (function directory,
then the layer, on ``sys.path`` as Lambda lays them out) and serves its first event, AWS
answered at the client seam. The floor: a fresh interpreter running ``import boto3`` and
creating one DynamoDB client. Runs are interleaved (floor, f1, f2, ..., floor, f1, ...) so a
change of load on the machine reaches every figure alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    ENVIRONMENT,
    FUNCTIONS,
    LAYER,
    ROOT,
    TABLE,
    account_item,
    median,
    secret_value,
    signed_event,
    sms_body,
)

CHILD = Path(__file__).with_name("cold_child.py")
FLOOR_CODE = "import boto3; boto3.client('dynamodb')"
TARGET = 1.25


@dataclass
class Scenario:
    event: dict[str, Any]
    aws: dict[str, list[dict[str, Any]]]
    succeeded: Callable[[Any], bool]
    note: str


@dataclass
class ColdResult:
    name: str
    samples: list[float] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    response: Any = None
    ok: bool = False
    note: str = ""


def _inbound() -> Scenario:
    return Scenario(
        event=signed_event(sms_body()),
        aws={
            "dynamodb.GetItem": [{"Item": account_item()}],
            "secretsmanager.GetSecretValue": [secret_value()],
            "dynamodb.PutItem": [{}],
        },
        succeeded=lambda response: response.get("statusCode") == 200,
        note="a signed SMS stored: GetItem (account), GetSecretValue, PutItem",
    )


def _status_callback() -> Scenario:
    body = (
        "MessageSid=SM0123456789abcdef0123456789abcdef&MessageStatus=delivered"
        "&AccountSid=AC0123456789abcdef0123456789abcdef"
    )
    return Scenario(
        event=signed_event(body, route="status"),
        aws={
            "dynamodb.GetItem": [{"Item": account_item()}],
            "secretsmanager.GetSecretValue": [secret_value()],
        },
        succeeded=lambda response: response.get("statusCode") == 200,
        note="a signed delivery status recorded",
    )


def _trigger_processor() -> Scenario:
    from sms_automation.adapters.dynamo_json import to_attributes
    from sms_automation.webhooks.inbound_message import InboundMessage
    from tests.support.events import inbound_example

    params = tuple((name, value) for name, value in inbound_example("sms_plain")["params"])
    item = InboundMessage("acme", "2026-01-01T00:00:00.000Z", params, {}).to_item()
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026",
        "dynamodb": {
            "Keys": {"pk": item_attr(item["pk"]), "sk": item_attr(item["sk"])},
            "NewImage": to_attributes(item),
            "SequenceNumber": "100",
            "StreamViewType": "NEW_IMAGE",
        },
    }
    return Scenario(
        event={"Records": [record]},
        aws={},
        succeeded=lambda response: response == {"batchItemFailures": []},
        note="one stream record of a new message, the account without triggers",
    )


def item_attr(value: str) -> dict[str, str]:
    return {"S": value}


def _conversation(*, waiting: bool) -> dict[str, Any]:
    from sms_automation.adapters.conversation_store import _item
    from sms_automation.adapters.dynamo_json import to_attributes
    from sms_automation.conversations.model import Conversation

    resolved: dict[str, Any] = (
        {} if waiting else {"status": "timeout", "resolved_at": "2026-01-01T00:01:00Z"}
    )
    conversation = Conversation(
        message_sid=_SID,
        step_id="t/1",
        account="acme",
        contact="+14155550101",
        our_number="+15005550006",
        trigger="t",
        started_at="2026-01-01T00:00:00Z",
        deadline="2999-01-01T00:00:00Z",
        reminders=(),
        **resolved,
    )
    return to_attributes(_item(conversation))


_SID = "SM11111111111111111111111111111111"


def _conversation_task(function: str) -> Scenario:
    from sms_automation.adapters.dynamo_json import to_attributes
    from sms_automation.webhooks.inbound_message import InboundMessage
    from tests.support.events import inbound_example

    params = tuple((name, value) for name, value in inbound_example("sms_plain")["params"])
    message = to_attributes(
        InboundMessage("acme", "2026-01-01T00:00:00.000Z", params, {}).to_item()
    )
    get_items = {
        "conversation_register": [{"Item": _conversation(waiting=True)}],
        "conversation_timer": [{"Item": _conversation(waiting=True)}],
        "conversation_resume": [{"Item": _conversation(waiting=False)}, {"Item": message}, {}],
    }[function]
    notes = {
        "conversation_register": "the token kept, the conversation opened (no prompt)",
        "conversation_timer": "a waiting conversation, nothing due yet",
        "conversation_resume": (
            "a timed-out conversation closed, the message replayed (no triggers)"
        ),
    }
    return Scenario(
        event={"message_sid": _SID, "step_id": "t/1", "task_token": "token", "woke": {}},
        aws={"dynamodb.GetItem": get_items},
        succeeded=lambda response: isinstance(response, dict),
        note=notes[function],
    )


def _automation_api() -> Scenario:
    from tests.support.events import automations_api_event

    return Scenario(
        event=automations_api_event(
            "POST",
            "acme",
            "reminder",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"to": "+14155550101", "idempotency_key": "bench-1"}),
            caller_arn="arn:aws:iam::123456789012:role/bench",
        ),
        aws={"dynamodb.GetItem": [{}]},
        succeeded=lambda response: response.get("statusCode") == 404,
        note="a start for an unknown account: GetItem, 404",
    )


def _automation_events() -> Scenario:
    return Scenario(
        event={
            "version": "0",
            "id": "00000000-0000-4000-8000-000000000001",
            "detail-type": "SMS automation start",
            "source": "sms-automation",
            "account": "123456789012",
            "time": "2026-01-01T08:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {"account": "acme", "automation": "reminder", "to": "+14155550101"},
        },
        aws={"dynamodb.GetItem": [{}]},
        succeeded=lambda response: response.get("started") is False,
        note="a bus event for an unknown account: GetItem, rejected",
    )


def _schedule_sync() -> Scenario:
    record = {
        "eventID": "1",
        "eventName": "REMOVE",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"pk": item_attr("ACCOUNT#acme"), "sk": item_attr("TRIGGERS#CURRENT")},
            "SequenceNumber": "100",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    return Scenario(
        event={"Records": [record]},
        aws={"scheduler.ListSchedules": [{"Schedules": []}]},
        succeeded=lambda response: response == {"batchItemFailures": []},
        note="a trigger pointer removed, no schedules: ListSchedules",
    )


def _console_api() -> Scenario:
    """A signed-in viewer opens the console: the inbox of their account, its first page."""
    from sms_automation import keys
    from sms_automation.adapters.dynamo_json import to_attributes
    from sms_automation.webhooks.inbound_message import InboundMessage
    from tests.support.events import console_api_event, inbound_example

    messages = []
    for index, example in enumerate(("sms_plain", "sms_emoji_multisegment", "mms_two_images")):
        params = tuple((name, value) for name, value in inbound_example(example)["params"])
        received_at = f"2026-01-01T00:0{index}:00.000Z"
        messages.append(InboundMessage("acme", received_at, params, {}).to_item())
    index_keys = [
        {name: {"S": str(item[name])} for name in (keys.PK, keys.SK, keys.GSI1_PK, keys.GSI1_SK)}
        for item in reversed(messages)
    ]
    return Scenario(
        event=console_api_event(
            "/console/api/accounts/{account}/messages",
            {"account": "acme"},
            groups="[viewer account:acme]",
        ),
        aws={
            "dynamodb.GetItem": [{"Item": account_item()}],
            "dynamodb.Query": [{"Items": index_keys, "Count": len(index_keys)}],
            "dynamodb.BatchGetItem": [
                {"Responses": {TABLE: [to_attributes(item) for item in messages]}}
            ],
        },
        succeeded=lambda response: (
            response.get("statusCode") == 200 and len(json.loads(response["body"])["items"]) == 3
        ),
        note="a viewer's inbox, first page: GetItem (account), Query (gsi1), BatchGetItem",
    )


_BROADCAST = "BC" + "b" * 32


def _broadcast_record(status: str) -> dict[str, Any]:
    from sms_automation import keys
    from sms_automation.adapters.dynamo_json import to_attributes

    return to_attributes(
        {
            **keys.broadcast_key(_BROADCAST),
            "kind": keys.KIND_BROADCAST,
            "broadcast_id": _BROADCAST,
            "account": "acme",
            "automation": "reminder",
            "status": status,
            "attempt": 1,
        }
    )


def _broadcast_row() -> Scenario:
    item = {"row": 2, "to": "+14155550101", "from": None, "variables": {}}
    return Scenario(
        event={"broadcast_id": _BROADCAST, "item": item},
        aws={"dynamodb.GetItem": [{"Item": _broadcast_record("cancelled")}]},
        succeeded=lambda response: response.get("outcome") == "cancelled",
        note="a row of a cancelled broadcast: GetItem, nothing started",
    )


def _broadcast_steps() -> Scenario:
    return Scenario(
        event={"step": "finish", "broadcast_id": _BROADCAST},
        aws={"dynamodb.UpdateItem": [{"Attributes": _broadcast_record("completed")}]},
        succeeded=lambda response: response.get("status") == "completed",
        note="a broadcast's Finish: one conditional UpdateItem",
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "inbound_webhook": _inbound,
    "status_callback": _status_callback,
    "trigger_processor": _trigger_processor,
    "conversation_register": lambda: _conversation_task("conversation_register"),
    "conversation_resume": lambda: _conversation_task("conversation_resume"),
    "conversation_timer": lambda: _conversation_task("conversation_timer"),
    "automation_api": _automation_api,
    "automation_events": _automation_events,
    "schedule_sync": _schedule_sync,
    "console_api": _console_api,
    "broadcast_row": _broadcast_row,
    "broadcast_steps": _broadcast_steps,
}


def _environment() -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    env.update(ENVIRONMENT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # bytecode caches are already warm, as in a layer
    return env


def _timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(  # noqa: PLW1510
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tempfile.gettempdir()
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{argv[2:4]} failed:\n{completed.stderr.decode()[-2000:]}")
    return elapsed


def run(functions: list[str], runs: int) -> tuple[ColdResult, list[ColdResult]]:
    env = _environment()
    floor = ColdResult("floor: import boto3 + one DynamoDB client", ok=True)
    results = [ColdResult(name) for name in functions]
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as work:
        plans = []
        for result in results:
            scenario = SCENARIOS[result.name]()
            result.note = scenario.note
            scenario_path = Path(work, f"{result.name}.json")
            scenario_path.write_text(json.dumps({"event": scenario.event, "aws": scenario.aws}))
            out = Path(work, f"{result.name}.out.json")
            argv = [
                sys.executable,
                str(CHILD),
                str(FUNCTIONS / result.name),
                str(LAYER),
                str(scenario_path),
                str(out),
            ]
            plans.append((result, scenario, argv, out))
        for _ in range(runs):
            floor.samples.append(_timed([sys.executable, "-c", FLOOR_CODE], env))
            for result, scenario, argv, out in plans:
                try:
                    result.samples.append(_timed(argv, env))
                except RuntimeError as error:
                    result.note += f"; FAILED: {str(error)[-300:]}"
                    break
                served = json.loads(out.read_text())
                result.calls, result.response = served["calls"], served["response"]
                result.ok = scenario.succeeded(served["response"])
    return floor, results


def import_profile(function: str, top: int = 8) -> list[tuple[str, float]]:
    """``python -X importtime`` of the handler: import time (self, ms) summed per top-level
    package, heaviest first: where a cold start's import time goes."""
    paths = [str(FUNCTIONS / function), str(LAYER)]
    code = f"import sys; sys.path[0:0] = {paths!r}; import handler"
    completed = subprocess.run(  # noqa: PLW1510
        [sys.executable, "-X", "importtime", "-c", code],
        env=_environment(),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    costs: dict[str, float] = {}
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, _, raw_name = line.removeprefix("import time:").split("|", 2)
        package = raw_name.strip().split(".", 1)[0]
        costs[package] = costs.get(package, 0.0) + int(self_us) / 1000
    return [(name, round(ms, 1)) for name, ms in sorted(costs.items(), key=lambda i: -i[1])[:top]]


def summarise(floor: ColdResult, results: list[ColdResult]) -> list[dict[str, Any]]:
    floor_median = median(floor.samples)
    rows = []
    for result in results:
        ratio = median(result.samples) / floor_median if result.samples else float("nan")
        rows.append(
            {
                "function": result.name,
                "median_ms": round(median(result.samples) * 1000, 1) if result.samples else None,
                "floor_median_ms": round(floor_median * 1000, 1),
                "ratio": round(ratio, 3),
                "target": TARGET,
                "pass": bool(result.ok and ratio <= TARGET),
                "first_event_served": result.ok,
                "runs": len(result.samples),
                "aws_calls": result.calls,
                "note": result.note,
            }
        )
    return rows
