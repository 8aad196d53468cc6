"""``sms-automation automations list|runs|show`` against moto: the trigger file as pushed, runs
started by the real starter and processed by the real trigger processor (``world``)."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from tests.integration.test_automation_runs import REMINDER, start
from tests.support.cli import run_cli as cli
from tests.support.conversation_world import ALICE, World

pytestmark = pytest.mark.integration

NIGHTLY = {
    "name": "nightly-summary",
    "enabled": False,
    "inputs": [{"name": "team", "default": "support"}],
    "actions": [{"type": "send_sms", "body": "Summary for %team%"}],
    "schedules": [
        {
            "expression": "cron(0 8 * * ? *)",
            "timezone": "Europe/London",
            "to": "+14155550199",
            "from": "+15005550006",
        }
    ],
}


@pytest.fixture
def cli_world(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("SMS_AUTOMATION_TABLE", world.table)
    source = copy.deepcopy(REMINDER)
    source["automations"].append(NIGHTLY)
    world.push(yaml.safe_dump(source))
    return world


def ours(out: str) -> list[str]:
    """stdout without the JSON log lines of the handlers that ran in this process."""
    return [line for line in out.splitlines() if not line.startswith('{"level"')]


def test_list_shows_each_automation_with_its_inputs_and_schedules(
    cli_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "automations", "list", "acme")

    assert code == 0
    assert out.splitlines() == [
        "trigger version 1 of 'acme':",
        "appointment-reminder (enabled, from +15005550006)",
        "  input patient (text, required)",
        "  input appointment (datetime, required)",
        "nightly-summary (disabled, no 'from' (give --from))",
        "  input team (text, default 'support')",
        "  schedule cron(0 8 * * ? *) Europe/London for +14155550199",
    ]


def test_list_as_json(cli_world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "automations", "list", "acme", "--json")

    assert code == 0
    reminder, nightly = (json.loads(line) for line in out.splitlines())
    assert [i["name"] for i in reminder["inputs"]] == ["patient", "appointment"]
    assert reminder["inputs"][1] == {
        "name": "appointment",
        "type": "datetime",
        "required": True,
        "default": None,
    }
    assert nightly["schedules"][0]["expression"] == "cron(0 8 * * ? *)"
    assert (nightly["enabled"], nightly["trigger_version"]) == (False, 1)


def test_list_of_an_unknown_account_exits_1(
    cli_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "automations", "list", "globex")
    assert code == 1
    assert "no account named 'globex'" in err


def test_runs_lists_newest_first_and_by_automation(
    cli_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    first = start(cli_world, idempotency_key="one")
    second = start(cli_world, idempotency_key="two")

    code, out, _ = cli(capsys, "automations", "runs", "acme", "--json")
    assert code == 0
    runs = [json.loads(line) for line in out.splitlines()]
    assert [r["run_id"] for r in runs] == [second, first]
    assert {(r["status"], r["source"]) for r in runs} == {("queued", "api")}

    code, out, _ = cli(capsys, "automations", "runs", "acme", "nightly-summary")
    assert (code, out) == (0, "no runs yet\n")

    code, out, _ = cli(
        capsys, "automations", "runs", "acme", "Appointment-Reminder", "--limit", "1"
    )
    header, row = out.splitlines()
    assert header.split() == ["REQUESTED", "RUN", "STATUS", "SOURCE", "AUTOMATION"]
    assert row.split()[1:] == [second, "queued", "api", "appointment-reminder"]


def test_show_tells_the_run_s_story(cli_world: World, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = start(cli_world)
    assert cli_world.deliver() == {"batchItemFailures": []}
    cli_world.registered(run_id, "appointment-reminder/1")

    code, out, _ = cli(capsys, "automations", "show", run_id)
    assert code == 0
    lines = ours(out)
    assert lines[0] == (
        f"{run_id}: appointment-reminder for {ALICE} from +15005550006, account acme, paused"
    )
    assert lines[1].startswith("started by api (arn:aws:iam::123456789012:role/booking) at ")
    assert lines[2:5] == [
        "input patient = 'Ann'",
        "input appointment = '2026-12-01T10:00:00Z'",
        "waiting at appointment-reminder/1",
    ]
    assert [line.split()[1] for line in lines[5:]] == ["step", "waiting"]

    cli_world.text("no")
    cli_world.finished(run_id, "appointment-reminder/1")
    code, out, _ = cli(capsys, "automations", "show", run_id)
    lines = ours(out)
    assert lines[0].endswith(", completed")
    story = [line.split(None, 2)[1:] for line in lines[4:]]
    assert [kind for kind, _ in story] == [
        *("step", "waiting", "reply", "outcome", "step", "step", "ended"),
    ]
    assert story[2:4] == [
        ["reply", "appointment-reminder/1: 'no'"],
        ["outcome", "appointment-reminder/1: replied"],
    ]
    assert story[4][1].startswith("appointment-reminder/1/on_reply/1 (send_sms) done: message SM")
    assert story[6] == ["ended", "completed"]

    code, out, _ = cli(capsys, "automations", "show", run_id, "--json")
    view = json.loads("\n".join(ours(out)))
    assert (view["status"], view["ended"]) == ("completed", True)
    assert view["conversations"][0]["replies"][0]["body"] == "no"


def test_show_of_an_unknown_run_exits_1(
    cli_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "automations", "show", "RU" + "f" * 32)
    assert (code, out) == (1, "")
    assert "no run" in err
