"""``sms-automation run`` against moto: the start goes through the real starter, the run through
the real trigger processor, state machine and webhook (the ``world`` fixture), and ``--follow``
prints what happens as the test drives the world between two of its polls."""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
import pytest
import yaml

from sms_automation.composition.automations import describe_run, list_runs
from sms_automation_cli import run as cli_run
from tests.integration.test_automation_runs import REMINDER
from tests.resilience.faults import CONNECTION_ERROR, AwsFaults
from tests.support.cli import run_cli as cli
from tests.support.conversation_world import ALICE, World

pytestmark = pytest.mark.integration

APPOINTMENT = "2026-12-01T10:00:00Z"
START = (
    "run",
    "acme",
    "appointment-reminder",
    "--to",
    ALICE,
    "--var",
    "patient=Ann",
    "--var",
    f"appointment={APPOINTMENT}",
)
PROMPT = f"Hi Ann, reply YES to confirm {APPOINTMENT}"


@pytest.fixture
def cli_world(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The world with the reminder pushed to acme, and the CLI pointed at its table."""
    monkeypatch.setenv("SMS_AUTOMATION_TABLE", world.table)
    world.push(yaml.safe_dump(REMINDER))
    return world


def stored_runs(world: World) -> list[dict[str, object]]:
    return list_runs(world.table, boto3.client("dynamodb"), "acme")


def between_polls(
    monkeypatch: pytest.MonkeyPatch, *moves: Callable[[], object]
) -> list[Callable[[], object]]:
    """``--follow`` sleeps between two polls: each sleep makes the next move of the world."""
    pending = list(moves)

    def next_move(seconds: float) -> None:
        assert pending, "--follow polled again after the run should have ended"
        pending.pop(0)()

    monkeypatch.setattr(cli_run, "sleep", next_move)
    return pending


def test_run_prints_the_run_id_and_records_the_cli_caller(
    cli_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, *START)

    assert code == 0
    run_id = out.strip()
    view = describe_run(cli_world.table, boto3.client("dynamodb"), run_id)
    assert view is not None
    assert (view["status"], view["source"]) == ("queued", "cli")
    assert view["requested_by"].startswith("arn:aws:")  # moto's STS caller identity
    assert view["variables"] == {"patient": "Ann", "appointment": APPOINTMENT}
    assert f"automations show {run_id}" in err


def test_run_follow_prints_the_prompt_the_reply_and_the_continuation_until_it_ends(
    cli_world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def process_the_start() -> None:
        assert cli_world.deliver() == {"batchItemFailures": []}
        [run] = stored_runs(cli_world)
        cli_world.registered(str(run["run_id"]), "appointment-reminder/1")

    def contact_replies_yes() -> None:
        [run] = stored_runs(cli_world)
        cli_world.text("yes")
        cli_world.finished(str(run["run_id"]), "appointment-reminder/1")

    left = between_polls(monkeypatch, process_the_start, contact_replies_yes)

    code, out, _ = cli(capsys, *START, "--follow")

    assert code == 0
    assert left == []
    # the handlers run in this process: their JSON log lines are on stdout too
    run_id, *events = (line for line in out.splitlines() if not line.startswith("{"))
    story = [line.split(None, 2)[1:] for line in events]
    assert [kind for kind, _ in story] == [
        "queued",
        "step",
        "waiting",
        "reply",
        "outcome",
        "step",
        "step",
        "ended",
    ]
    assert story[1][1].startswith("appointment-reminder/1/prompt (send_sms) done")
    assert f"prompt: {PROMPT!r}" in story[2][1]
    assert story[3][1] == "appointment-reminder/1: 'yes'"
    assert story[4][1] == "appointment-reminder/1: replied"
    assert story[5][1].startswith("appointment-reminder/1/on_reply/1 (send_sms) done")
    assert story[6][1].startswith("appointment-reminder/2 (send_sms) done")
    assert story[7][1] == "completed"
    assert cli_world.bodies() == [PROMPT, "Thanks, yes", f"Run {run_id} done"]


def test_run_follow_json_gives_up_at_the_timeout_with_exit_3(
    cli_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, *START, "--follow", "--json", "--timeout", "0")

    assert code == 3
    started, queued = (json.loads(line) for line in out.splitlines())
    assert started["created"] is True
    assert queued["event"] == "queued"
    assert f"run {started['run_id']} is queued and goes on" in err


def test_ctrl_c_stops_following_and_the_run_goes_on(
    cli_world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def ctrl_c() -> None:
        raise KeyboardInterrupt

    between_polls(monkeypatch, ctrl_c)

    code, out, err = cli(capsys, *START, "--follow")

    assert code == 130
    assert "stopped following" in err
    run_id = out.splitlines()[0]
    assert cli_world.deliver() == {"batchItemFailures": []}
    cli_world.registered(run_id, "appointment-reminder/1")
    assert cli_world.bodies() == [PROMPT]


def test_invalid_variables_exit_2_name_every_problem_and_store_nothing(
    cli_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(
        capsys,
        *("run", "acme", "appointment-reminder", "--to", "+1555"),
        *("--var", "appointment=tomorrow", "--var", "colour=red", "--var", "colour=blue"),
    )

    assert code == 2
    assert out == ""
    problems = err.splitlines()[1:]
    assert [line.split(":")[0].strip() for line in problems] == [
        "variables.colour",
        "to",
        "variables.appointment",
        "variables.colour",
        "variables.patient",
    ]
    assert "given more than once" in problems[0]
    assert "required" in problems[4]
    assert stored_runs(cli_world) == []
    assert cli_world.stream.inserts_of_inbound_messages() == []


def test_invalid_variables_as_json_name_each_field(
    cli_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(
        capsys, "run", "acme", "appointment-reminder", "--to", ALICE, "--var", "x=1", "--json"
    )

    assert code == 2
    answer = json.loads(out)
    assert (answer["status"], answer["error"]) == (400, "invalid_request")
    assert [p["field"] for p in answer["problems"]] == [
        "variables.x",
        "variables.patient",
        "variables.appointment",
    ]


@pytest.mark.parametrize(
    ("account", "automation", "says"),
    [
        ("acme", "no-such-automation", "has no automation 'no-such-automation'"),
        ("globex", "appointment-reminder", "there is no account 'globex'"),
    ],
)
def test_an_unknown_automation_or_account_exits_1(
    cli_world: World, capsys: pytest.CaptureFixture[str], account: str, automation: str, says: str
) -> None:
    code, out, err = cli(capsys, "run", account, automation, "--to", ALICE)

    assert code == 1
    assert out == ""
    assert says in err
    assert stored_runs(cli_world) == []


def test_the_same_idempotency_key_gives_the_same_run_and_a_changed_request_conflicts(
    cli_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, first, _ = cli(capsys, *START, "--idempotency-key", "booking-42")
    assert code == 0
    code, again, err = cli(capsys, *START, "--idempotency-key", "booking-42")
    assert (code, again) == (0, first)
    assert "already started this run" in err

    for_bob = [argument.replace("patient=Ann", "patient=Bob") for argument in START]
    code, out, err = cli(capsys, *for_bob, "--idempotency-key", "booking-42")
    assert (code, out) == (1, "")
    assert "this idempotency key already started a run with a different request" in err
    assert len(stored_runs(cli_world)) == 1


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        ("PutItem", "AccessDeniedException"),
        ("PutItem", "ResourceNotFoundException"),
        ("GetItem", "AccessDeniedException"),  # no read permission: the account's read
    ],
)
def test_aws_refusing_for_good_exits_1_with_one_line_naming_the_code_and_what_to_check(
    cli_world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    operation: str,
    error: str,
) -> None:
    AwsFaults.install(monkeypatch).fail("dynamodb", operation, error=error)

    code, out, err = cli(capsys, *START)

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith(f"error: AWS refused the request ({error}); nothing was started")
    assert "credentials" in line
    assert f"permissions on table {cli_world.table!r}" in line
    assert "try again" not in line
    assert stored_runs(cli_world) == []


@pytest.mark.parametrize("error", ["ProvisionedThroughputExceededException", CONNECTION_ERROR])
def test_dynamodb_failing_for_now_exits_1_saying_try_again(
    cli_world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: str,
) -> None:
    AwsFaults.install(monkeypatch).fail("dynamodb", "PutItem", error=error)

    code, out, err = cli(capsys, *START)

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("error: ")
    assert line.endswith("try again")
    assert stored_runs(cli_world) == []


@pytest.mark.parametrize(
    ("error", "says"),
    [
        ("AccessDeniedException", "error: AWS refused the request (AccessDeniedException)"),
        ("ThrottlingException", "error: DynamoDB did not answer or refused for now"),
    ],
)
def test_follow_a_failed_read_exits_1_with_one_line_and_the_run_goes_on(
    cli_world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: str,
    says: str,
) -> None:
    faults = AwsFaults.install(monkeypatch)
    between_polls(monkeypatch, lambda: faults.fail("dynamodb", "GetItem", error=error, times=10))

    code, out, err = cli(capsys, *START, "--follow")

    assert code == 1
    run_id = out.splitlines()[0]
    [line] = err.splitlines()
    assert line.startswith(says)
    assert f"run {run_id} goes on" in line
    assert len(stored_runs(cli_world)) == 1
