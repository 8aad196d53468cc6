"""A broadcast on the local stack, on demand: ``python -m bench.broadcast [--rows 2000]``.

Brings the stack up exactly as ``make run`` does (``sms_automation_local.stack.LocalStack``) on
free ports, pushes the demo trigger file plus a one-SMS automation (``broadcast-notice``),
uploads a CSV of ``--rows`` distinct contacts and starts the broadcast through the same service
the CLI uses. Then, from the Twilio sandbox's outbox (every message our sender created, paged):

- **lost**: contacts of the file with no message; **duplicates**: messages beyond one per contact;
- **rate**: the largest number of messages the sender created in one second (the outbox's
  ``date_created`` has one-second resolution) against ``--rate`` (the paced rate per sender:
  1 segment/s for a long code); ``rate_exceeded_seconds`` counts the seconds above it. Until
  per-sender pacing has landed the figure is what the stack sends unpaced;
- start → every row's run started (the execution ended), start → last message, rows per second;
- the machine's load average before and after.

Prints the figures as JSON; nothing here runs in ``make test``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import boto3
import yaml

from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.broadcasts.service import ENDED, Status
from sms_automation.composition.broadcasts import broadcasts
from sms_automation.edge.settings import BroadcastSettings
from sms_automation.triggers.publish import publish
from sms_automation_local.demo import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
from sms_automation_local.layout import ROOT, Layout
from sms_automation_local.processes import unused_port
from sms_automation_local.readiness import stack_outputs
from sms_automation_local.stack import LocalStack
from sms_automation_local.state import LocalState

AUTOMATION = "broadcast-notice"
PAGE_SIZE = 1000
QUIET_SECONDS = 15.0
DEADLINE_SECONDS = 1800.0


def contacts(rows: int) -> list[str]:
    return [f"+1500561{n:04d}" for n in range(rows)]


def push_automation(stack: LocalState, table: str) -> None:
    """The demo's trigger file plus ``broadcast-notice`` (one SMS, one input)."""
    source = yaml.safe_load((ROOT / "local" / "demo" / "triggers.yaml").read_text("utf-8"))
    source.setdefault("automations", []).append(
        {
            "name": AUTOMATION,
            "from": stack.demo_number,
            "inputs": [{"name": "name", "required": True}],
            "actions": [{"type": "send_sms", "body": "Hello %name%, the clinic opens at 9."}],
        }
    )
    store = DynamoTriggerStore(table, boto3.client("dynamodb"))
    publish(store, stack.demo_account, yaml.safe_dump(source), now=datetime.now(UTC))


def outbox(stack: LocalState) -> list[dict[str, Any]]:
    """Every message the sandbox holds from our number, all pages."""
    credentials = base64.b64encode(f"{DEMO_ACCOUNT_SID}:{DEMO_AUTH_TOKEN}".encode()).decode()
    messages: list[dict[str, Any]] = []
    page = 0
    while True:
        query = urllib.parse.urlencode(
            {"From": stack.demo_number, "PageSize": PAGE_SIZE, "Page": page}
        )
        url = f"{stack.sandbox_url}/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/Messages.json?{query}"
        request = urllib.request.Request(url, headers={"Authorization": f"Basic {credentials}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        messages += body["messages"]
        if not body.get("next_page_uri"):
            return messages
        page += 1


def rate_figures(sent: list[dict[str, Any]], limit: float) -> dict[str, Any]:
    per_second = Counter(parsedate_to_datetime(m["date_created"]) for m in sent)
    if not per_second:
        return {"max_per_second": 0, "rate_exceeded_seconds": 0}
    span = (max(per_second) - min(per_second)).total_seconds() + 1
    return {
        "max_per_second": max(per_second.values()),
        "mean_per_second": round(len(sent) / span, 1),
        "paced_rate": limit,
        "rate_exceeded_seconds": sum(1 for count in per_second.values() if count > limit),
    }


def map_run_items(machine: str, broadcast_id: str) -> dict[str, int]:
    """The first execution's Map Run item counts (succeeded, failed, ...)."""
    states = boto3.client("stepfunctions")
    execution = machine.replace(":stateMachine:", ":execution:") + f":{broadcast_id}-1"
    runs = states.list_map_runs(executionArn=execution).get("mapRuns", [])
    if not runs:
        return {}
    counts = states.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"]
    return {name: int(value) for name, value in counts.items() if value}


def run(stack: LocalState, rows: int, limit: float, workdir: Path) -> dict[str, Any]:
    outputs = stack_outputs(stack)
    table = outputs["TableName"]
    push_automation(stack, table)
    people = contacts(rows)
    file = workdir / "broadcast.csv"
    file.write_text("to,name\n" + "".join(f"{c},P{n}\n" for n, c in enumerate(people)), "utf-8")
    bucket = outputs["BroadcastsBucketName"]
    key = "uploads/demo/bench-broadcast.csv"
    boto3.client("s3").upload_file(str(file), bucket, key)
    service = broadcasts(
        BroadcastSettings(table, bucket, outputs["BroadcastStateMachineArn"]),
        dynamodb=boto3.client("dynamodb"),
        s3=boto3.client("s3"),
        states=boto3.client("stepfunctions"),
    )
    load_before = os.getloadavg()
    started = time.monotonic()
    record = service.create(stack.demo_account, AUTOMATION, key, requested_by="bench")
    broadcast_id = str(record["broadcast_id"])
    rows_started_s = None
    wanted = set(people)
    last_count, last_change = -1, time.monotonic()
    while time.monotonic() - started < DEADLINE_SECONDS:
        time.sleep(2)
        view = service.describe(broadcast_id) or {}
        ended = Status(view.get("status", "running")) in ENDED
        if rows_started_s is None and ended and view.get("execution") != "RUNNING":
            rows_started_s = time.monotonic() - started
        sent = [m for m in outbox(stack) if m["to"] in wanted]
        if len(sent) != last_count:
            last_count, last_change = len(sent), time.monotonic()
        if len({m["to"] for m in sent}) >= rows or (
            rows_started_s is not None and time.monotonic() - last_change > QUIET_SECONDS
        ):
            break
    elapsed = time.monotonic() - started
    sent = [m for m in outbox(stack) if m["to"] in wanted]
    per_contact = Counter(m["to"] for m in sent)
    created = sorted(parsedate_to_datetime(m["date_created"]) for m in sent)
    return {
        "rows": rows,
        "broadcast_id": broadcast_id,
        "map_run_items": map_run_items(outputs["BroadcastStateMachineArn"], broadcast_id),
        "status": (service.get(broadcast_id) or {}).get("status"),
        "messages": len(sent),
        "lost": len(wanted - set(per_contact)),
        "duplicates": sum(count - 1 for count in per_contact.values()),
        "rows_started_seconds": round(rows_started_s, 1) if rows_started_s else None,
        "first_to_last_message_seconds": (created[-1] - created[0]).total_seconds()
        if created
        else None,
        "start_to_done_seconds": round(elapsed, 1),
        **rate_figures(sent, limit),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000, help="contacts in the file (2000)")
    parser.add_argument(
        "--rate", type=float, default=1.0, help="the paced rate per sender, segments/s (1)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as home:
        stack = LocalStack(
            layout=Layout(home=Path(home)),
            port=unused_port(),
            sandbox_port=unused_port(),
            report=lambda message: print(message, file=sys.stderr),
        )
        state = stack.up()
        try:
            for name, value in state.environment().items():
                os.environ[name] = value
            figures = run(state, args.rows, args.rate, Path(home))
        finally:
            stack.down()
    print(json.dumps({"broadcast": figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
