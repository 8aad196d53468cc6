"""Dry runs through a ``wait_for_reply``: ``triggers test`` and ``automations test`` stop at a
wait (paused, its prompt shown) and, with ``--reply TEXT`` (repeatable, in order), go on
through the conversation as a real one would: each reply decided by the wait's ``expect``, an
invalid one reprompted, ``max_attempts`` invalid ones ending in ``on_no_valid_answer``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "local" / "demo" / "triggers.yaml"
CONTACT = "+15005550001"
BOOK = ("triggers", "test", str(DEMO), "--from", CONTACT, "--to", "+15005550006", "--body", "book")
REMIND = (
    *("automations", "test", str(DEMO), "appointment-reminder", "--to", CONTACT),
    *("--var", "patient=Ann", "--var", "appointment=tomorrow at 10:00"),
)
PROMPT = "Your appointment is tomorrow at 10:00. Reply YES to confirm or NO to cancel."


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run_cli(capsys, *argv, "--json")
    assert (code, err) == (0, "")
    evaluation: dict[str, Any] = json.loads(out)
    return evaluation


def _replies(*texts: str) -> tuple[str, ...]:
    return tuple(part for text in texts for part in ("--reply", text))


def _sent(evaluation: dict[str, Any]) -> list[str]:
    return [step["body"] for step in evaluation["steps"] if step["kind"] == "send_sms"]


def test_triggers_test_stops_at_a_conversation_and_says_paused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    evaluation = _json(capsys, *BOOK)

    assert evaluation["status"] == "paused"
    assert evaluation["paused_at"] == "confirm-appointment/1"
    [wait] = evaluation["steps"]
    assert (wait["kind"], wait["prompt"], wait["outcome"]) == ("wait_for_reply", PROMPT, "pending")
    assert evaluation["diagnostics"] == []  # no "unknown outcome None"
    assert evaluation["replies"] == []


def test_triggers_test_text_shows_the_prompt_and_the_pause(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, *BOOK)

    assert code == 0
    assert "status: paused" in out.splitlines()
    assert f"prompt {PROMPT!r}" in out
    assert "paused at: confirm-appointment/1 (waiting for a reply; --reply TEXT answers" in out
    assert "unknown outcome" not in out
    assert "Thanks for your message" not in out  # nothing runs on past the wait


@pytest.mark.parametrize(
    ("replies", "sent"),
    [
        (["yes"], ["Confirmed: see you tomorrow at 10:00."]),
        (["  NO "], ["Cancelled. Text BOOK to choose another time."]),
        (["maybe", "no"], ["Cancelled. Text BOOK to choose another time."]),
        (["maybe", "later", "never"], ["Sorry, we could not understand. Please call us."]),
    ],
)
def test_triggers_test_replies_go_through_the_conversation(
    capsys: pytest.CaptureFixture[str], replies: list[str], sent: list[str]
) -> None:
    evaluation = _json(capsys, *BOOK, *_replies(*replies))

    assert evaluation["status"] == "completed"
    assert _sent(evaluation) == sent


def test_an_unexpected_reply_is_reprompted_and_the_conversation_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    evaluation = _json(capsys, *BOOK, "--reply", "maybe")

    assert evaluation["status"] == "paused"
    assert _sent(evaluation) == []  # not the "cancelled" branch
    assert evaluation["replies"] == [
        {
            "conversation": "confirm-appointment/1",
            "body": "maybe",
            "valid": False,
            "reprompt": "Please reply YES or NO.",
            "outcome": None,
        }
    ]


def test_the_text_report_lists_the_replies(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, *BOOK, *_replies("maybe", "yes", "thanks"))

    assert code == 0
    assert "  [confirm-appointment/1] 'maybe': not an expected answer; reprompt: " in out
    assert "  [confirm-appointment/1] 'yes': replied" in out
    assert "warning: reply 'thanks' not used: no conversation was left to answer" in out


def test_automations_test_reprompts_instead_of_taking_the_cancelled_branch(
    capsys: pytest.CaptureFixture[str],
) -> None:
    evaluation = _json(capsys, *REMIND, "--reply", "maybe")

    assert evaluation["status"] == "paused"
    assert _sent(evaluation) == []
    assert [reply["reprompt"] for reply in evaluation["replies"]] == ["Please reply YES or NO."]


def test_automations_test_follows_the_replies_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    evaluation = _json(capsys, *REMIND, *_replies("maybe", "yes"))

    assert evaluation["status"] == "completed"
    assert _sent(evaluation) == ["Thank you Ann, see you tomorrow at 10:00."]
    assert [r["valid"] for r in evaluation["replies"]] == [False, True]


def test_replies_answer_successive_conversations_and_max_attempts_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "two-waits.yaml"
    source.write_text(
        "version: 1\n"
        "triggers:\n"
        "  - name: survey\n"
        "    actions:\n"
        "      - type: wait_for_reply\n"
        "        prompt: Name?\n"
        "      - type: wait_for_reply\n"
        "        prompt: 'Score, %answer.body%?'\n"
        "        expect: {regex: '^[1-5]$'}\n"
        "        reprompt: 1 to 5 please\n"
        "        max_attempts: 2\n"
        "        on_reply: [{type: send_sms, body: 'Thanks, %answer.body%'}]\n"
        "        on_no_valid_answer: [{type: send_sms, body: Never mind}]\n"
    )
    argv = ("triggers", "test", str(source), "--from", CONTACT, "--to", "+15005550006")

    first = _json(capsys, *argv, "--body", "hi", *_replies("Ann"))
    assert (first["status"], first["paused_at"]) == ("paused", "survey/2")
    assert first["steps"][1]["prompt"] == "Score, Ann?"

    scored = _json(capsys, *argv, "--body", "hi", *_replies("Ann", "9", "4"))
    assert _sent(scored) == ["Thanks, 4"]

    given_up = _json(capsys, *argv, "--body", "hi", *_replies("Ann", "9", "10"))
    assert _sent(given_up) == ["Never mind"]
    assert [r["outcome"] for r in given_up["replies"]] == ["replied", None, "no_valid_answer"]
