"""``sms-automation automations test FILE NAME``: a dry run of an automation in a local file,
its inputs checked by the same rules as a start; and the demo file's appointment reminder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.support.cli import run_cli as cli

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "local" / "demo" / "triggers.yaml"
CONTACT = "+15005550001"
DEMO_START = (
    *("automations", "test", str(DEMO), "appointment-reminder", "--to", CONTACT),
    *("--var", "patient=Ann", "--var", "appointment=tomorrow at 10:00"),
)


def test_the_demo_file_validates_with_its_automation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "triggers", "validate", str(DEMO))
    assert code == 0
    assert "ok" in out
    names = [a["name"] for a in yaml.safe_load(DEMO.read_text())["automations"]]
    assert names == ["appointment-reminder", "clinic-notice"]


def test_a_dry_run_pauses_at_the_conversation_with_the_prompt_rendered(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli(capsys, *DEMO_START, "--json")

    assert (code, err) == (0, "")
    evaluation = json.loads(out)
    assert evaluation["status"] == "paused"
    assert evaluation["paused_at"] == "appointment-reminder/1"
    [wait] = evaluation["steps"]
    assert (wait["kind"], wait["to"], wait["from"]) == ("wait_for_reply", CONTACT, "+15005550006")
    assert wait["prompt"] == (
        "Hi Ann, a reminder of your appointment tomorrow at 10:00 at the Main Street clinic. "
        "Reply YES to confirm or NO to cancel."
    )
    assert evaluation["diagnostics"] == []


@pytest.mark.parametrize(
    ("reply", "continuation"),
    [
        ("yes", "Thank you Ann, see you tomorrow at 10:00."),
        (
            "no",
            "Your appointment tomorrow at 10:00 is cancelled. Text BOOK to choose another time.",
        ),
    ],
)
def test_a_dry_run_with_a_reply_shows_the_branch_it_takes(
    capsys: pytest.CaptureFixture[str], reply: str, continuation: str
) -> None:
    code, out, _ = cli(capsys, *DEMO_START, "--reply", reply, "--json")

    assert code == 0
    evaluation = json.loads(out)
    assert evaluation["status"] == "completed"
    assert [s["kind"] for s in evaluation["steps"]] == ["wait_for_reply", "send_sms"]
    assert evaluation["steps"][1]["body"] == continuation


def test_a_dry_run_prints_the_run_then_the_triggers_test_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = cli(capsys, *DEMO_START, "--from", "+15005550007")

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"run 'appointment-reminder' for {CONTACT} from +15005550007"
    assert lines[1:3] == ["status: paused", "matched: appointment-reminder"]
    assert lines[-1] == (
        "paused at: appointment-reminder/1 (waiting for a reply; --reply TEXT answers it)"
    )


def test_invalid_inputs_exit_2_naming_every_problem(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(
        capsys,
        *("automations", "test", str(DEMO), "appointment-reminder", "--to", "555"),
        *("--var", "colour=red", "--var", "clinic=A", "--var", "clinic=B"),
    )

    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: 5 problem(s), nothing started:",
        "  variables.clinic: given more than once",
        "  to: expected a number in E.164 form (+15551234567) or whatsapp:+E.164",
        "  variables.colour: not an input of this automation "
        "(inputs: patient, appointment, clinic)",
        "  variables.patient: required (text)",
        "  variables.appointment: required (text)",
    ]


def test_an_input_of_the_wrong_type_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "typed.yaml"
    source.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "automations": [
                    {
                        "name": "nudge",
                        "from": "+15005550006",
                        "inputs": [{"name": "when", "type": "datetime", "required": True}],
                        "actions": [{"type": "send_sms", "body": "See you %when%"}],
                    }
                ],
            }
        )
    )
    argv = ("automations", "test", str(source), "nudge", "--to", CONTACT)

    code, _, err = cli(capsys, *argv, "--var", "when=tomorrow")
    assert code == 2
    assert "variables.when: expected a date and time in ISO 8601" in err

    code, out, _ = cli(capsys, *argv, "--var", "when=2026-12-01T10:00:00Z")
    assert code == 0
    assert "send_sms to +15005550001 from +15005550006: 'See you 2026-12-01T10:00:00Z'" in out


def test_an_unknown_automation_exits_1_naming_the_file_s_automations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = cli(capsys, "automations", "test", str(DEMO), "reminder", "--to", CONTACT)
    assert code == 1
    assert "has no automation 'reminder' (automations: appointment-reminder, clinic-notice)" in err
