"""A broadcast on the deployed local stack: the real template's bucket, state machine (its
Distributed Map on the emulator) and functions, started by the CLI from a 20-row file with bad,
opted-out and repeated rows: every valid contact gets the automation's prompt exactly once (the
Twilio sandbox's outbox), a second start with the same key sends nothing more, the report
counts every row. The CLI runs in-process (this worktree's code) against the stack.

A second broadcast is started, paused and resumed through the automations API (SigV4-signed
HTTP, the example's signer) from a file uploaded to the bucket: every contact is texted once
across the pause, a repeated pause changes nothing, a pause of the completed one is a 409.

Polls with a bounded deadline; never asserts a time. The demo's ``clinic-notice`` sends one SMS
and waits for nothing; the contacts (+150055507xx) are this test's own.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation_local.layout import ROOT
from sms_automation_local.state import LocalState
from tests.e2e.polling import wait_for
from tests.e2e.texting import replies_to, send
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

    def completed() -> dict[str, Any] | None:  # the second start's path over: nothing runs
        code, out, _ = run_cli(capsys, "broadcast", "report", broadcast_id, "--json")
        assert code == 0
        report: dict[str, Any] = json.loads(out)
        return report if report["status"] == "completed" else None

    report = wait_for("the broadcast to complete after the second start", completed)
    assert {
        k: report[k] for k in ("rows", "started", "sent", "invalid", "opted_out", "skipped")
    } == {"rows": 20, "started": 16, "sent": 16, "invalid": 2, "opted_out": 1, "skipped": 1}
    assert [len(prompts(local_stack, contact)) for contact in VALID] == [1] * 16
    assert replies_to(local_stack, "+1500") == []
    assert prompts(local_stack, STOPPED) == []


API_CONTACTS = [f"+150055507{n:02d}" for n in range(20, 26)]


def _example() -> ModuleType:
    """examples/start_automation.py, for its SigV4 signer (``signed_request``)."""
    spec = importlib.util.spec_from_file_location(
        "start_automation", ROOT / "examples" / "start_automation.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_api_broadcast_paused_and_resumed_texts_every_row_once(
    local_stack: LocalState, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in local_stack.environment().items():
        monkeypatch.setenv(name, value)
    session = boto3.Session()
    credentials, region = session.get_credentials(), session.region_name
    signer = _example()
    base = f"{local_stack.automations_api_url}/automations/demo/{NOTICE}/broadcasts"

    def call(method: str, path: str = "", body: dict[str, Any] | None = None) -> Any:
        status, answer, _ = signer.signed_request(method, base + path, body, credentials, region)
        return status, answer

    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in boto3.client("cloudformation").describe_stacks(StackName=local_stack.stack_name)[
            "Stacks"
        ][0]["Outputs"]
    }
    key = "uploads/demo/e2e-api.csv"
    text = "to,patient\n" + "".join(f"{c},A{n}\n" for n, c in enumerate(API_CONTACTS))
    boto3.client("s3").put_object(
        Bucket=outputs["BroadcastsBucketName"], Key=key, Body=text.encode()
    )

    status, started = call("POST", body={"key": key, "idempotency_key": "e2e-api-broadcast"})
    assert status == 201, started
    broadcast_id = started["broadcast_id"]
    # Right after the start the broadcast is still validating: the pause lands while it runs.
    status, paused = call("POST", f"/{broadcast_id}/pause")
    assert (status, paused["status"], paused["attempt"]) == (200, "paused", 1), paused
    status, again = call("POST", f"/{broadcast_id}/pause")
    assert (status, again["status"], again["attempt"]) == (200, "paused", 1), again
    wait_for(
        "the paused broadcast's execution to stop",
        lambda: (
            call("GET", f"/{broadcast_id}")[1].get("execution") not in (None, "RUNNING") or None
        ),
    )
    status, resumed = call("POST", f"/{broadcast_id}/resume")
    assert (status, resumed["attempt"]) == (200, 2), resumed
    wait_for(
        "the resumed broadcast to complete",
        lambda: call("GET", f"/{broadcast_id}")[1].get("status") == "completed" or None,
    )
    for contact in API_CONTACTS:
        wait_for(f"the notice to {contact}", lambda c=contact: prompts(local_stack, c) or None)
    status, report = call("GET", f"/{broadcast_id}/report")
    assert (status, report["started"], report["sent"]) == (200, 6, 6), report
    assert [len(prompts(local_stack, contact)) for contact in API_CONTACTS] == [1] * 6
    status, refused = call("POST", f"/{broadcast_id}/pause")
    assert (status, refused["error"]) == (409, "broadcast_state_conflict"), refused
