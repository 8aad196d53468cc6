"""``triggers test`` shows the ThinkAutomation text of the message it evaluated (the text
``messages show --format thinkautomation`` prints for a stored message), without AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sms_automation.webhooks.inbound_message import THINKAUTOMATION_FIELDS
from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[3]
TEST = (
    *("triggers", "test", str(ROOT / "local" / "demo" / "triggers.yaml")),
    *("--from", "+447700900123", "--to", "+15005550006", "--body", "hello there"),
    *("--field", "ToCountry=US", "--field", "FromCountry=GB"),
)
EXPECTED = [
    "FROM: +447700900123",
    "BODY: hello there",
    "TOCOUNTRY: US",
    "TOSTATE: ",
    f"SMSMESSAGESID: SM{'0' * 32}",
    f"SMSSID: SM{'0' * 32}",
    "SMSSTATUS: received",
    "FROMCOUNTRY: GB",
    "TO: +15005550006",
    f"MESSAGESID: SM{'0' * 32}",
    "ACCOUNTSID: ",
    "HTTP_USER_AGENT: ",
    "HTTP_X_TWILIO_SIGNATURE: ",
]


def test_the_json_has_the_thinkautomation_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, *TEST, "--json")
    assert code == 0
    text = json.loads(out)["thinkautomation_text"]
    assert text.splitlines() == EXPECTED
    assert len(EXPECTED) == len(THINKAUTOMATION_FIELDS)


def test_the_report_shows_the_thinkautomation_text_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, *TEST)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "message (ThinkAutomation text):"
    assert lines[1 : 1 + len(EXPECTED)] == [f"  {line}" for line in EXPECTED]
    assert lines[1 + len(EXPECTED)] == "status: completed"


def test_a_multi_line_body_stays_inside_the_message_block(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [*TEST]
    argv[argv.index("hello there")] = "line one\nstatus: forged"
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0
    assert "  BODY: line one\n  status: forged\n" in out
    assert out.splitlines().count("status: completed") == 1
