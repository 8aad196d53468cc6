"""The ``sms-automation`` CLI run in-process, its output captured."""

from __future__ import annotations

import pytest

from sms_automation.cli.main import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``sms-automation *argv``; earlier output is dropped."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
