"""A broadcast on the deployed local stack: the real template's bucket, state machine (its
Distributed Map on the emulator) and functions, started by the CLI from a 20-row file with bad,
opted-out and repeated rows: every valid contact gets the automation's prompt exactly once (the
Twilio sandbox's outbox), a second start with the same key sends nothing more, the report
counts every row. The CLI runs in-process (this worktree's code) against the stack.

Polls with a bounded deadline; never asserts a time. The demo's ``clinic-notice`` sends one SMS
and waits for nothing; the contacts (+150055507xx) are this test's own.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation_local.state import LocalState
from tests.e2e.polling import wait_for
from tests.e2e.test_sandbox import replies_to, send
from tests.support.cli import run_cli

pytestmark = pytest.mark.e2e

VALID = [f"+150055507{n:02d}" for n in range(16)]
STOPPED = "+15005550799"
NOTICE = "clinic-notice"  # the demo's one-SMS automation (local/demo/triggers.yaml)


def rows_file(path: Path) -> Path:
    lines = ["to,patient"]
    lines += [f"{contact},P{n}" for n, contact in enumerate(VALID)]
    lines.insert(5, "+1500,Bad")  # line 6: not a number
    lines.insert(9, f"{VALID[4]},")  # line 10: no patient (required)
    lines.append(f"{STOPPED},Stopped")  # opted out
    lines.append(f"{VALID[0]},Again")  # a repeated contact
    path.write_text("\n".join(lines) + "\n", "utf-8")
    assert len(lines) == 21  # header + 20 rows
    return path


def prompts(stack: LocalState, contact: str) -> list[str]:
    return [m["body"] for m in replies_to(stack, contact) if "clinic opens at 9:00" in m["body"]]


def test_a_cli_broadcast_reaches_every_valid_row_once_and_reports_every_row(
    local_stack: LocalState,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    for name, value in local_stack.environment().items():
        monkeypatch.setenv(name, value)
    send(local_stack, STOPPED, "STOP")
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in boto3.client("cloudformation").describe_stacks(StackName=local_stack.stack_name)[
            "Stacks"
        ][0]["Outputs"]
    }
    contacts = DynamoContactStore(outputs["TableName"], boto3.client("dynamodb"))
    wait_for(
        "the STOP to be recorded",
        lambda: (
            True
            if (state := contacts.get("demo", local_stack.demo_number, STOPPED)) and state.opted_out
            else None
        ),
    )
    file = rows_file(tmp_path / "reminders.csv")

    code, out, err = run_cli(
        capsys,
        "broadcast",
        "start",
        "demo",
        NOTICE,
        str(file),
        "--idempotency-key",
        "e2e-broadcast",
    )
    assert code == 0, err
    broadcast_id = out.splitlines()[0]
    assert "rows 20, valid 16, invalid 2, duplicates 1, opted_out 1" in out
    assert "line 6: to:" in out
    assert "line 10: variables.patient: required" in out

    for contact in VALID:
        wait_for(f"the prompt to {contact}", lambda c=contact: prompts(local_stack, c) or None)
    code, again, _ = run_cli(
        capsys,
        "broadcast",
        "start",
        "demo",
        NOTICE,
        str(file),
        "--idempotency-key",
        "e2e-broadcast",
    )
    assert code == 0
    assert again.splitlines()[0] == broadcast_id

    code, out, _ = run_cli(capsys, "broadcast", "report", broadcast_id, "--json")
    assert code == 0
    report = json.loads(out)
    assert {
        k: report[k] for k in ("rows", "started", "sent", "invalid", "opted_out", "skipped")
    } == {"rows": 20, "started": 16, "sent": 16, "invalid": 2, "opted_out": 1, "skipped": 1}
    assert [len(prompts(local_stack, contact)) for contact in VALID] == [1] * 16
    assert replies_to(local_stack, "+1500") == []
    assert prompts(local_stack, STOPPED) == []
