"""``sms-automation triggers``: schema, validate, test (dry run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sms_automation_cli.main import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "triggers"


def test_cli_schema_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["triggers", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Trigger file"


def test_cli_validate_ok_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["triggers", "validate", str(EXAMPLES / "keyword-routing.yaml")]) == 0
    assert "ok: 4 trigger(s), 4 enabled" in capsys.readouterr().out


def test_cli_validate_counts_automations_and_schedules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "automations.yaml"
    path.write_text(
        "version: 1\n"
        "automations:\n"
        "  - name: daily\n"
        '    from: "+15005550006"\n'
        "    actions: [{type: send_sms, body: Good morning}]\n"
        '    schedules: [{expression: "cron(0 8 * * ? *)", to: "+14155550101"}]\n'
    )
    assert main(["triggers", "validate", str(path)]) == 0
    assert "0 trigger(s), 0 enabled, 0 top-level action(s); 1 automation(s), 1 schedule(s)" in (
        capsys.readouterr().out
    )


def test_cli_validate_errors_exit_1_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ntriggers:\n  - name: t\n    actons: []\n")
    assert main(["triggers", "validate", str(bad), str(EXAMPLES / "auto-reply.yaml")]) == 1
    captured = capsys.readouterr()
    assert (
        captured.err == f"{bad}:4: trigger 't': unknown field 'actons' — did you mean 'actions'?\n"
    )
    assert "auto-reply.yaml: ok" in captured.out


RECORD_INTO = (
    "version: 1\ntriggers:\n  - name: x\n    actions:\n"
    "      - type: record\n        table: {table}\n        item: {{a: b}}\n"
)


def test_cli_validate_refuses_a_record_into_the_known_app_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline, the deployment's table is known from SMS_AUTOMATION_TABLE: a record naming
    it is refused with its line; another table of the user's is fine."""
    monkeypatch.setenv("SMS_AUTOMATION_TABLE", "sms-automation-AppTable-1X")
    into_app, into_crm = tmp_path / "app.yaml", tmp_path / "crm.yaml"
    into_app.write_text(RECORD_INTO.format(table="sms-automation-AppTable-1X"))
    into_crm.write_text(RECORD_INTO.format(table="crm-leads"))

    assert main(["triggers", "validate", str(into_app), str(into_crm)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"{into_app}:6: trigger 'x': action 1 (record): table: ")
    assert "is the application's own table" in captured.err
    assert f"{into_crm}: ok" in captured.out

    monkeypatch.delenv("SMS_AUTOMATION_TABLE")
    assert main(["triggers", "validate", str(into_app)]) == 0  # not known offline: run time


def test_cli_test_prints_the_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "triggers",
            "test",
            str(EXAMPLES / "record-to-table.yaml"),
            "--from",
            "+447700900123",
            "--to",
            "+447700900999",
            "--body",
            "order 123456 qty 2 email jo@example.com",
            "--now",
            "2025-03-14T10:30:00+00:00",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "matched: record-order" in out
    assert "order_id = '123456'" in out
    assert "dry run: nothing is sent" in out
    assert "[record-order/1/then/2] send_sms to +447700900123 from +447700900999: " in out
    assert '"received_at": "2025-03-14T10:30:00+00:00"' in out


def test_cli_test_json_output_with_media_and_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "triggers",
            "test",
            str(EXAMPLES / "keyword-routing.yaml"),
            "--from",
            "+1",
            "--to",
            "+15005550006",
            "--body",
            "info",
            "--media-url",
            "https://example.com/a.png",
            "--field",
            "ToCountry=US",
            "--json",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["matched"] == ["sales-info"]
    assert result["steps"][0]["kind"] == "send_sms"
    assert result["steps"][0]["outcome"] == "done"


def test_cli_test_bad_now_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["triggers", "test", str(EXAMPLES / "auto-reply.yaml"), "--from", "+1", "--to", "+2"]
    assert main([*args, "--body", "x", "--now", "yesterday"]) == 2
    assert "not an ISO date-time" in capsys.readouterr().err
