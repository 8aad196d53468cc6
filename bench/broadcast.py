"""A broadcast on the local stack, on demand: ``python -m bench.broadcast [--rows N] [--rate R]``.

Brings the stack up exactly as ``make run`` does (``sms_automation_local.stack.LocalStack``) on
free ports, pushes the demo trigger file plus a one-SMS automation (``broadcast-notice``), sets
the demo sender's paced rate (``accounts set --send-rate``), writes a CSV of ``--rows`` distinct
contacts plus ``BAD_ROWS`` invalid lines and ``REPEATED`` repeated contacts, and runs what a user
runs: ``sms-automation broadcast start demo broadcast-notice FILE`` (it uploads, starts, follows
to the end) and ``broadcast report ID --json``. Then, from the Twilio sandbox's outbox (every
message our sender created, paged):

- **lost**: valid contacts with no message; **duplicates**: messages beyond one per contact;
  **strays**: messages to a bad row's or any other number;
- **rate**: the largest number of messages the sender created in one second (the outbox's
  ``date_created`` has one-second resolution) against ``--rate``; ``rate_exceeded_seconds``
  counts the seconds above it (a token bucket may spend its burst in the first second: see
  bench/RESULTS.md);
- the report's counts against the file (started, sent, invalid, skipped);
- start → the CLI's end, first → last message, messages a second; the load average.

Prints the figures as JSON; nothing here runs in ``make test``.

Not measured yet: the rate of a burst of *replies* (many contacts texting one paced sender at
once; ``rate_figures`` would read it the same way from the outbox). ``tests/e2e/test_pacing.py``
asserts from the stack's records that such a burst is deferred beyond the sender's allowance,
not the rate Twilio sees: a bench for that belongs here.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
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
from sms_automation.processing.pacing import BURST_SECONDS
from sms_automation.triggers.publish import publish
from sms_automation_local.demo import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
from sms_automation_local.layout import ROOT, Layout
from sms_automation_local.processes import unused_port
from sms_automation_local.readiness import stack_outputs
from sms_automation_local.stack import LocalStack
from sms_automation_local.state import LocalState

AUTOMATION = "broadcast-notice"
PAGE_SIZE = 1000
QUIET_SECONDS = 20.0
CLI_MARGIN_SECONDS = 600.0  # validation, the stack's first cold starts; then 3x the paced time
BAD_ROWS = 3
REPEATED = 2
BOUND_WINDOWS = 60
REPORT_FIELDS = (
    "status",
    "rows",
    "started",
    "sent",
    "delivered",
    "failed",
    "invalid",
    "skipped",
    "opted_out",
)


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
    """The sender's rate as the sandbox saw it. Pacing's bound (processing/pacing.py): over any
    window of ``w`` seconds, bulk sends at most ``r * w + burst`` segments (``burst``: one
    second's worth). With the outbox's whole seconds, ``w`` consecutive seconds hold sends less
    than ``w`` seconds apart, so a window of ``w`` bins may hold ``r * w + burst``; checked for
    every window of 1 to ``BOUND_WINDOWS`` seconds."""
    per_second = Counter(int(parsedate_to_datetime(m["date_created"]).timestamp()) for m in sent)
    if not per_second:
        return {"max_per_second": 0, "windows_over_bound": 0}
    first, last = min(per_second), max(per_second)
    counts = [per_second.get(second, 0) for second in range(first, last + 1)]
    burst = max(1.0, limit * BURST_SECONDS)
    over = 0
    for width in range(1, BOUND_WINDOWS + 1):
        window = sum(counts[:width])
        for start in range(len(counts) - width + 1):
            if start:
                window += counts[start + width - 1] - counts[start - 1]
            over += window > limit * width + burst
    return {
        "max_per_second": max(counts),
        "mean_per_second": round(len(sent) / len(counts), 2),
        "paced_rate": limit,
        "seconds_above_rate": sum(1 for count in counts if count > limit),
        "windows_over_bound": over,
    }


def map_run_items(machine: str, broadcast_id: str) -> dict[str, int]:
    """The first execution's Map Run item counts (succeeded, failed, ...)."""
    states = boto3.client("stepfunctions")
    execution = machine.replace(":stateMachine:", ":execution:") + f":{broadcast_id}-1"
    runs = states.list_map_runs(executionArn=execution).get("mapRuns", [])
    if not runs:
        return {}
    counts = states.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"]
    return {name: value for name, value in counts.items() if isinstance(value, int) and value}


def cli(stack: LocalState, *args: str, timeout: float) -> str:
    """One ``sms-automation`` command against the stack, as a user runs it; its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "sms_automation_cli.main", *args],
        env={**os.environ, **stack.environment()},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"sms-automation {args[:2]} exited {done.returncode}: {done.stderr[-2000:]}"
        )
    return done.stdout


def write_file(path: Path, people: list[str]) -> None:
    """The valid rows, then ``BAD_ROWS`` invalid numbers and ``REPEATED`` contacts again."""
    lines = [f"{contact},P{n}" for n, contact in enumerate(people)]
    lines += [f"not-a-number-{n},Bad{n}" for n in range(BAD_ROWS)]
    lines += [f"{contact},Again{n}" for n, contact in enumerate(people[:REPEATED])]
    path.write_text("to,name\n" + "\n".join(lines) + "\n", "utf-8")


def run(stack: LocalState, rows: int, limit: float, workdir: Path) -> dict[str, Any]:
    outputs = stack_outputs(stack)
    push_automation(stack, outputs["TableName"])
    cli(
        stack,
        "accounts",
        "set",
        stack.demo_account,
        "--send-rate",
        f"{stack.demo_number}={limit:g}",
        timeout=120,
    )
    people = contacts(rows)
    file = workdir / "broadcast.csv"
    write_file(file, people)
    deadline = CLI_MARGIN_SECONDS + rows / limit * 3
    load_before = os.getloadavg()
    started = time.monotonic()
    out = cli(
        stack, "broadcast", "start", stack.demo_account, AUTOMATION, str(file), timeout=deadline
    )
    cli_seconds = time.monotonic() - started
    broadcast_id = out.splitlines()[0].strip()
    wanted = set(people)
    sent = settled_outbox(stack)
    report = json.loads(cli(stack, "broadcast", "report", broadcast_id, "--json", timeout=600))
    ours = [m for m in sent if m["to"] in wanted]
    per_contact = Counter(m["to"] for m in ours)
    created = sorted(parsedate_to_datetime(m["date_created"]) for m in ours)
    return {
        "rows": rows,
        "bad_rows": BAD_ROWS,
        "repeated": REPEATED,
        "rate": limit,
        "broadcast_id": broadcast_id,
        "map_run_items": map_run_items(outputs["BroadcastStateMachineArn"], broadcast_id),
        "report": {k: report.get(k) for k in REPORT_FIELDS},
        "messages": len(ours),
        "lost": len(wanted - set(per_contact)),
        "duplicates": sum(count - 1 for count in per_contact.values()),
        "strays": len(sent) - len(ours),
        "cli_start_to_end_seconds": round(cli_seconds, 1),
        "first_to_last_message_seconds": (created[-1] - created[0]).total_seconds()
        if created
        else None,
        **rate_figures(ours, limit),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


def settled_outbox(stack: LocalState) -> list[dict[str, Any]]:
    """The outbox once it has not grown for ``QUIET_SECONDS`` (the last sends land after the
    broadcast's rows have all started)."""
    messages, last_change = outbox(stack), time.monotonic()
    while time.monotonic() - last_change < QUIET_SECONDS:
        time.sleep(3)
        now = outbox(stack)
        if len(now) != len(messages):
            messages, last_change = now, time.monotonic()
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000, help="contacts in the file (2000)")
    parser.add_argument(
        "--rate",
        type=float,
        default=5.0,
        help="the demo sender's paced rate, segments/s, set on the account (5)",
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
