"""Every time zone a person names gets one clear error when it is not one: the CLI's
``--timezone``, a trigger condition's and a schedule's ``timezone``, an account's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms_automation.time_zones import UnknownTimeZone, time_zone
from sms_automation.triggers import AccountSettings
from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "local" / "demo" / "triggers.yaml"
CLEAR = "unknown time zone 'Mars/Base' (an IANA name such as Europe/London)"
NOT_ZONES = ["Mars/Base", "America", "../etc/passwd", "/etc/localtime", "", "zone1970.tab"]


def test_a_zone_is_read_by_its_iana_name() -> None:
    assert str(time_zone("Europe/London")) == "Europe/London"


@pytest.mark.parametrize("name", NOT_ZONES)
def test_anything_else_is_an_unknown_time_zone_naming_it(name: str) -> None:
    with pytest.raises(UnknownTimeZone) as raised:
        time_zone(name)
    assert str(raised.value) == f"unknown time zone {name!r} (an IANA name such as Europe/London)"


def test_a_long_name_is_shortened_in_the_error() -> None:
    with pytest.raises(UnknownTimeZone) as raised:
        time_zone("x" * 5_000)
    assert len(str(raised.value)) < 160


def test_account_settings_with_an_unknown_zone_say_so() -> None:
    with pytest.raises(UnknownTimeZone, match=r"unknown time zone 'Mars/Base'"):
        _ = AccountSettings("acme", "Mars/Base").zone


@pytest.mark.parametrize(
    "argv",
    [
        (
            "triggers",
            "test",
            str(DEMO),
            "--from",
            "+15005550001",
            "--to",
            "+15005550006",
            "--body",
            "hi",
        ),
        ("automations", "test", str(DEMO), "appointment-reminder", "--to", "+15005550001"),
    ],
)
@pytest.mark.parametrize("name", ["Mars/Base", "../etc/passwd"])
def test_the_cli_timezone_option_is_a_usage_error_naming_the_zone(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], name: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        run_cli(capsys, *argv, "--timezone", name)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --timezone: unknown time zone {name!r} (an IANA name such as" in err
    assert "No time zone found" not in err


@pytest.mark.parametrize(
    "where",
    [
        "triggers:\n  - name: office\n    when:\n"
        "      - {field: now, is_after_time: '09:00', timezone: Mars/Base}\n"
        "    actions: [{type: send_sms, body: hi}]\n",
        "automations:\n  - name: daily\n    from: '+15005550006'\n"
        "    actions: [{type: send_sms, body: hi}]\n"
        "    schedules:\n      - {expression: 'cron(0 8 * * ? *)', timezone: Mars/Base,"
        " to: '+15005550001'}\n",
    ],
    ids=["condition", "schedule"],
)
def test_a_trigger_file_s_zone_is_refused_on_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    path = tmp_path / "zones.yaml"
    path.write_text("version: 1\n" + where)
    code, _, err = run_cli(capsys, "triggers", "validate", str(path))
    assert code == 1
    [line] = [line for line in err.splitlines() if "time zone" in line]
    assert line.startswith(f"{path}:")
    assert line.endswith(f"timezone: {CLEAR}")
