"""``triggers test`` decides an opt-out keyword as the processor does: only the triggers that ask
for opt-outs (``on_opt_out``) are evaluated, so the demo answers nothing to STOP, STOPALL,
UNSUBSCRIBE or CANCEL in any case or spacing (issue 15), and an ordinary message is unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli

DEMO = Path(__file__).resolve().parents[3] / "local" / "demo" / "triggers.yaml"
OPT_OUTS = [
    "STOP",
    "stop",
    " Stop ",
    "STOPALL",
    "  stopall\n",
    "UNSUBSCRIBE",
    "unsubscribe",
    "Cancel",
    "\tCANCEL  ",
]


def dry_run(capsys: pytest.CaptureFixture[str], body: str, *extra: str) -> dict[str, Any]:
    code, out, err = run_cli(
        capsys,
        *("triggers", "test", str(DEMO), "--from", "+14155550101", "--to", "+15005550006"),
        *("--body", body, "--json", *extra),
    )
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.mark.parametrize("body", OPT_OUTS)
def test_triggers_test_answers_nothing_to_an_opt_out_keyword(
    capsys: pytest.CaptureFixture[str], body: str
) -> None:
    result = dry_run(capsys, body)
    assert result["opt_out_keyword"] is not None
    assert all("send_sms" not in json.dumps(step) for step in result["steps"])


def test_triggers_test_twilio_s_opt_out_type_makes_any_body_an_opt_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = dry_run(capsys, "please stop texting me", "--field", "OptOutType=STOP")
    assert result["opt_out_keyword"] == "PLEASE STOP TEXTING ME"
    assert all("send_sms" not in json.dumps(step) for step in result["steps"])


@pytest.mark.parametrize("body", ["stop it", "hello", "START"])
def test_triggers_test_an_ordinary_message_still_gets_the_auto_reply(
    capsys: pytest.CaptureFixture[str], body: str
) -> None:
    result = dry_run(capsys, body)
    assert result["opt_out_keyword"] is None
    assert any("Thanks for your message" in json.dumps(step) for step in result["steps"])
