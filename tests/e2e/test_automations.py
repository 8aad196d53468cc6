"""Automations started from outside an SMS, on the deployed local stack: by the CLI, by the
IAM-authorised automations API (``examples/start_automation.py``, SigV4-signed, run as a script)
and by an EventBridge event on the stack's own bus → the prompt in the Twilio sandbox's outbox →
the contact's reply from the phone simulator → the continuation SMS; one run per idempotency
key; refused requests start nothing.

Polls with a bounded deadline; never asserts a time. The demo automation waits two minutes, so
every conversation here is ended by a reply, never by its timeout.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest

from sms_automation.automations.events import DETAIL_TYPE, SOURCE
from sms_automation.automations.start import run_id_for
from sms_automation_local.demo import DEMO_AUTH_TOKEN
from sms_automation_local.layout import ROOT
from sms_automation_local.readiness import stack_outputs
from sms_automation_local.state import LocalState
from tests.e2e.conftest import sms_automation
from tests.e2e.polling import DEADLINE_SECONDS, wait_for
from tests.e2e.texting import AUTO_REPLY, replies_to
from tests.support.cli import CONSOLE_SCRIPT

pytestmark = pytest.mark.e2e

SCRIPT = ROOT / "examples" / "start_automation.py"
REMINDER = "appointment-reminder"


def prompt(patient: str, appointment: str) -> str:
    return (
        f"Hi {patient}, a reminder of your appointment {appointment} at the Main Street clinic. "
        "Reply YES to confirm or NO to cancel."
    )


def outbox(stack: LocalState, contact: str) -> list[str]:
    """What the stack sent the contact through the sandbox, oldest first."""
    return [m["body"] for m in reversed(replies_to(stack, contact))]


def wait_for_outbox(stack: LocalState, contact: str, body: str) -> list[str]:
    return wait_for(f"{body!r} to {contact}", lambda: _sent(stack, contact, body))


def _sent(stack: LocalState, contact: str, body: str) -> list[str] | None:
    bodies = outbox(stack, contact)
    return bodies if body in bodies else None


# --- the automations API on the emulator ------------------------------------------------------


@pytest.fixture(scope="module")
def api_url(local_stack: LocalState) -> str:
    """The automations API's invoke URL on the emulator, as the local stack reports it.

    The stack's ``AutomationsApiUrl`` output is the AWS form
    (``https://{id}.execute-api.{region}.amazonaws.com``: the ``$default`` stage, no stage
    segment); ministack serves an HTTP API's ``$default`` stage at
    ``{endpoint}/_aws/execute-api/{id}``, as it does the webhook API.
    """
    outputs = stack_outputs(local_stack)
    api_id = outputs["AutomationsApiId"]
    aws_url = outputs["AutomationsApiUrl"]
    assert re.fullmatch(rf"https://{api_id}\.execute-api\.[a-z0-9-]+\.amazonaws\.com", aws_url)
    assert outputs["AutomationRunsUrlPattern"] == f"{aws_url}/automations/{{account}}/{{name}}/runs"
    assert (
        local_stack.automations_api_url == f"{local_stack.endpoint_url}/_aws/execute-api/{api_id}"
    )
    return local_stack.automations_api_url


def example(cli_env: dict[str, str], *argv: str) -> tuple[int, int, dict[str, Any]]:
    """``examples/start_automation.py`` as a subprocess, signing with the emulator's dummy
    credentials: (exit code, HTTP status, JSON answer)."""
    env = {**cli_env, "AWS_REGION": cli_env["AWS_DEFAULT_REGION"]}
    done = subprocess.run(  # noqa: S603 - the project's own example, fixed arguments
        [sys.executable, str(SCRIPT), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    status = re.search(r"^HTTP (\d{3})$", done.stderr, re.MULTILINE)
    assert status is not None, f"no HTTP status: {done.stdout}{done.stderr}"
    return done.returncode, int(status.group(1)), json.loads(done.stdout)


def start_by_api(
    cli_env: dict[str, str],
    api_url: str,
    contact: str,
    *variables: str,
    key: str,
    account: str = "demo",
    automation: str = REMINDER,
) -> tuple[int, int, dict[str, Any]]:
    argv = ["--api-url", api_url, "--account", account, "--automation", automation]
    argv += ["--to", contact, "--idempotency-key", key]
    for variable in variables:
        argv += ["--var", variable]
    return example(cli_env, *argv)


def read_by_api(
    cli_env: dict[str, str], api_url: str, run_id: str, automation: str = REMINDER
) -> tuple[int, dict[str, Any]]:
    argv = ["--api-url", api_url, "--account", "demo", "--automation", automation]
    _, status, answer = example(cli_env, *argv, "--run-id", run_id)
    return status, answer


def reply_from_simulator(stack: LocalState, contact: str, body: str) -> None:
    """The phone simulator's own JSON API: the sandbox records the SMS and POSTs Twilio's signed
    form to the demo number's SmsUrl, as the page's Send button does."""
    request = urllib.request.Request(
        f"{stack.sandbox_url}/simulator/api/send",
        data=json.dumps({"from": contact, "to": stack.demo_number, "body": body}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    assert answer["status"] == 200, answer


def recent_run_ids(cli_env: dict[str, str], automation: str = REMINDER) -> list[str]:
    listed = sms_automation(
        cli_env, "automations", "runs", "demo", automation, "--limit", "100", "--json"
    )
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line)["run_id"] for line in listed.stdout.splitlines()]


# --- started by the CLI ------------------------------------------------------------------------


def test_cli_run_prompts_and_the_reply_runs_the_continuation(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    contact = "+15005550211"
    started = sms_automation(
        cli_env,
        "run",
        "demo",
        REMINDER,
        "--to",
        contact,
        "--var",
        "patient=Ann",
        "--var",
        "appointment=tomorrow at 10:00",
    )
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()
    assert re.fullmatch(r"RU[0-9a-f]{32}", run_id), started.stdout

    wait_for_outbox(local_stack, contact, prompt("Ann", "tomorrow at 10:00"))
    replied = sms_automation(cli_env, "simulate", "sms", "--from", contact, "--body", "YES")
    assert replied.returncode == 0, replied.stderr

    bodies = wait_for_outbox(local_stack, contact, "Thank you Ann, see you tomorrow at 10:00.")
    assert bodies == [
        prompt("Ann", "tomorrow at 10:00"),
        "Thank you Ann, see you tomorrow at 10:00.",
    ]
    # The run records its end just after the continuation is sent.
    run = wait_for("the run to end", lambda: _ended(cli_env, run_id))
    assert (run["status"], run["source"], run["to"]) == ("completed", "cli", contact)
    [conversation] = run["conversations"]
    assert conversation["outcome"]["outcome"] == "replied"
    assert [reply["body"] for reply in conversation["replies"]] == ["YES"]
    assert sorted((s["step_id"], s["state"]) for s in run["steps"]) == [
        ("appointment-reminder/1/on_reply/1/then/1", "done"),
        ("appointment-reminder/1/prompt", "done"),
    ]
    assert run_id in recent_run_ids(cli_env)


def _ended(cli_env: dict[str, str], run_id: str) -> dict[str, Any] | None:
    shown = sms_automation(cli_env, "automations", "show", run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    run: dict[str, Any] = json.loads(shown.stdout)
    return run if run["ended"] else None


def test_cli_run_follow_prints_the_run_until_it_ends(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    contact = "+15005550212"
    follower = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [
            str(CONSOLE_SCRIPT),
            "run",
            "demo",
            REMINDER,
            "--to",
            contact,
            "--var",
            "patient=Bea",
            "--var",
            "appointment=on Friday at 9:30",
            "--follow",
            "--json",
            "--timeout",
            str(DEADLINE_SECONDS),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env,
    )
    try:
        wait_for_outbox(local_stack, contact, prompt("Bea", "on Friday at 9:30"))
        replied = sms_automation(cli_env, "simulate", "sms", "--from", contact, "--body", "no")
        assert replied.returncode == 0, replied.stderr
        out, err = follower.communicate(timeout=DEADLINE_SECONDS + 30)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.communicate()

    assert follower.returncode == 0, err
    first, *lines = out.splitlines()
    run = json.loads(first)
    assert run["created"] is True
    events = [json.loads(line) for line in lines]
    kinds = [event["event"] for event in events]
    [waiting] = [event for event in events if event["event"] == "waiting"]
    assert waiting["prompt"] == prompt("Bea", "on Friday at 9:30")
    assert [e["body"] for e in events if e["event"] == "reply"] == ["no"]
    assert [e["outcome"] for e in events if e["event"] == "outcome"] == ["replied"]
    assert ("appointment-reminder/1/on_reply/1/else/1", "done") in [
        (e["step_id"], e["state"]) for e in events if e["event"] == "step"
    ]
    assert kinds.index("waiting") < kinds.index("reply") < kinds.index("outcome")
    assert events[-1]["event"] == "ended"
    assert events[-1]["status"] == "completed"
    assert outbox(local_stack, contact) == [
        prompt("Bea", "on Friday at 9:30"),
        "Your appointment on Friday at 9:30 is cancelled. Text BOOK to choose another time.",
    ]


# --- started by the automations API -------------------------------------------------------------


def test_api_start_prompts_and_the_reply_runs_the_continuation(
    local_stack: LocalState, cli_env: dict[str, str], api_url: str
) -> None:
    contact = "+15005550213"
    code, status, started = start_by_api(
        cli_env,
        api_url,
        contact,
        "patient=Cy",
        "appointment=on Monday at 14:00",
        key="e2e-api-booking-1",
    )
    assert (code, status, started["created"]) == (0, 201, True), started
    run_id = started["run_id"]
    assert run_id == run_id_for("demo", "e2e-api-booking-1")
    assert started["status_url"].endswith(f"/automations/demo/{REMINDER}/runs/{run_id}")

    wait_for_outbox(local_stack, contact, prompt("Cy", "on Monday at 14:00"))
    reply_from_simulator(local_stack, contact, "Yes")
    wait_for_outbox(local_stack, contact, "Thank you Cy, see you on Monday at 14:00.")

    def ended() -> dict[str, Any] | None:
        status, run = read_by_api(cli_env, api_url, run_id)
        assert status == 200, run
        return run if run["ended"] else None

    run = wait_for("the run to end", ended)
    assert (run["status"], run["source"], run["to"]) == ("completed", "api", contact)
    assert run["requested_by"].startswith("arn:aws:iam::"), run["requested_by"]
    assert run["variables"] == {
        "patient": "Cy",
        "appointment": "on Monday at 14:00",
        "clinic": "the Main Street clinic",
    }
    # The action log: the prompt and the continuation, each sent once through the sandbox.
    sent = {m["sid"]: m["body"] for m in replies_to(local_stack, contact)}
    steps = {step["step_id"]: step for step in run["steps"]}
    assert set(steps) == {
        "appointment-reminder/1/prompt",
        "appointment-reminder/1/on_reply/1/then/1",
    }
    assert {steps[s]["resource_sid"] for s in steps} == set(sent)
    assert all(step["state"] == "done" for step in steps.values())
    [conversation] = run["conversations"]
    assert conversation["prompt"] == prompt("Cy", "on Monday at 14:00")
    assert [reply["body"] for reply in conversation["replies"]] == ["Yes"]
    assert conversation["outcome"]["outcome"] == "replied"


def test_api_retry_with_the_same_idempotency_key_starts_one_run(
    local_stack: LocalState, cli_env: dict[str, str], api_url: str
) -> None:
    contact = "+15005550214"
    variables = ("patient=Dee", "appointment=next week")
    code, status, first = start_by_api(
        cli_env, api_url, contact, *variables, key="e2e-retried-booking"
    )
    assert (code, status, first["created"]) == (0, 201, True), first
    code, status, again = start_by_api(
        cli_env, api_url, contact, *variables, key="e2e-retried-booking"
    )
    assert (code, status, again["created"]) == (0, 200, False), again
    assert again["run_id"] == first["run_id"]

    wait_for_outbox(local_stack, contact, prompt("Dee", "next week"))
    reply_from_simulator(local_stack, contact, "YES")
    wait_for_outbox(local_stack, contact, "Thank you Dee, see you next week.")
    # Processing is in order: once a later message from the contact got the auto-reply, a
    # second run of this start (a second prompt, a second conversation) would have shown itself.
    reply_from_simulator(local_stack, contact, "thanks")
    bodies = wait_for_outbox(
        local_stack,
        contact,
        AUTO_REPLY,
    )
    assert bodies.count(prompt("Dee", "next week")) == 1
    assert len(bodies) == 3, bodies
    assert recent_run_ids(cli_env).count(first["run_id"]) == 1


# --- an EventBridge event on the stack's own bus ----------------------------------------------


def test_event_on_the_stack_bus_prompts_the_contact(
    local_stack: LocalState, cli_env: dict[str, str]
) -> None:
    """The documented ``PutEvents`` (docs/automations-reference.md) on the bus the
    ``AutomationsEventBusName`` output names: the template's rule delivers it to
    automation-events, which starts one run; the prompt reaches the sandbox."""
    contact = "+15005550215"
    bus = stack_outputs(local_stack)["AutomationsEventBusName"]
    assert bus != "default"
    events = boto3.client(
        "events",
        endpoint_url=local_stack.endpoint_url,
        region_name=local_stack.region,
        aws_access_key_id=cli_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=cli_env["AWS_SECRET_ACCESS_KEY"],
    )
    detail = {
        "account": "demo",
        "automation": REMINDER,
        "to": contact,
        "variables": {"patient": "Eve", "appointment": "on Friday at 9:00"},
        "idempotency_key": "e2e-event-booking",
    }
    put = events.put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": SOURCE,
                "DetailType": DETAIL_TYPE,
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert put["FailedEntryCount"] == 0, put
    wait_for_outbox(local_stack, contact, prompt("Eve", "on Friday at 9:00"))
    run_id = run_id_for("demo", "e2e-event-booking")
    assert recent_run_ids(cli_env).count(run_id) == 1


# --- refused requests ---------------------------------------------------------------------------


def test_api_refuses_an_unsigned_request_and_starts_nothing(
    local_stack: LocalState, cli_env: dict[str, str], api_url: str
) -> None:
    """No ``Authorization`` header: API Gateway's 403 before our function runs.

    Limitation of the emulator: ministack 1.5.33 enforces only the *presence* of the
    ``Authorization`` header on AWS_IAM routes; it does not verify the SigV4 signature nor the
    caller's ``execute-api:Invoke`` permission (any signed request passes, which is why the
    other tests sign with the dummy ``test``/``test`` credentials). A wrong signature or a
    missing permission is refused on AWS only; the signature check is covered by the integration
    test of the example script behind a signature-checking stand-in.
    """
    key = "e2e-unsigned"
    before = recent_run_ids(cli_env)
    body = {
        "to": "+15005550215",
        "variables": {"patient": "Eve", "appointment": "today"},
        "idempotency_key": key,
    }
    request = urllib.request.Request(
        f"{api_url}/automations/demo/{REMINDER}/runs",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    assert json.load(refused.value) == {"message": "Forbidden"}  # an HTTP API's IAM refusal

    assert recent_run_ids(cli_env) == before
    status, answer = read_by_api(cli_env, api_url, run_id_for("demo", key))
    assert (status, answer["error"]) == (404, "run_not_found")


TYPED_TRIGGERS = """\
version: 1
triggers: []
automations:
  - name: slot-offer
    from: "+15005550006"
    inputs:
      - {name: seats, type: integer, required: true}
      - {name: starts, type: datetime, required: true}
      - {name: reply_to, type: email}
    actions:
      - type: send_sms
        body: "%seats% seats from %starts%"
"""


def test_api_bad_input_is_refused_with_every_problem_named_and_starts_nothing(
    local_stack: LocalState,
    cli_env: dict[str, str],
    api_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # An account of its own with typed inputs (the demo's are all text).
    triggers = tmp_path_factory.mktemp("automations") / "typed.yaml"
    triggers.write_text(TYPED_TRIGGERS, encoding="utf-8")
    added = sms_automation(
        cli_env,
        "accounts",
        "add",
        "clinic",
        "--account-sid",
        local_stack.demo_account_sid,
        "--auth-token-stdin",
        stdin=DEMO_AUTH_TOKEN + "\n",
    )
    assert added.returncode == 0, added.stderr
    pushed = sms_automation(cli_env, "triggers", "push", "clinic", str(triggers))
    assert pushed.returncode == 0, pushed.stderr

    contact = "+15005550216"
    code, status, typed = start_by_api(
        cli_env,
        api_url,
        contact,
        "seats=many",
        "starts=tomorrow",
        "reply_to=nobody",
        "colour=red",
        key="e2e-typed",
        account="clinic",
        automation="slot-offer",
    )
    assert (code, status, typed["error"]) == (2, 400, "invalid_request"), typed
    assert sorted(problem["field"] for problem in typed["problems"]) == [
        "variables.colour",
        "variables.reply_to",
        "variables.seats",
        "variables.starts",
    ]

    before = recent_run_ids(cli_env)
    code, status, invalid = start_by_api(
        cli_env, api_url, "555", "appointment=soon", "colour=red", key="e2e-invalid"
    )
    assert (code, status, invalid["error"]) == (2, 400, "invalid_request"), invalid
    assert sorted(problem["field"] for problem in invalid["problems"]) == [
        "to",
        "variables.colour",
        "variables.patient",
    ]

    code, status, unknown = start_by_api(
        cli_env, api_url, contact, automation="no-such-automation", key="e2e-unknown"
    )
    assert (code, status, unknown["error"]) == (1, 404, "automation_not_found"), unknown
    code, status, no_account = start_by_api(
        cli_env, api_url, contact, "patient=Ann", account="nobody", key="e2e-no-account"
    )
    assert (code, status, no_account["error"]) == (1, 404, "account_not_found"), no_account

    # Nothing stored for any of them.
    assert recent_run_ids(cli_env) == before
    for key in ("e2e-invalid", "e2e-unknown"):
        status, answer = read_by_api(cli_env, api_url, run_id_for("demo", key))
        assert (status, answer["error"]) == (404, "run_not_found")
    listed = sms_automation(cli_env, "automations", "runs", "clinic", "slot-offer", "--json")
    assert (listed.returncode, listed.stdout) == (0, ""), listed.stderr
