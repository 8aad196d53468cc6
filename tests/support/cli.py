"""The ``sms-automation`` CLI run in-process (its output captured) or as its console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sms_automation_cli.main import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``sms-automation *argv``; earlier output is dropped."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


CONSOLE_SCRIPT = Path(sys.executable).parent / "sms-automation"
"""The console script the package installs into the venv running the tests."""


def console_script(
    env: dict[str, str], *argv: str, stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``sms-automation *argv`` as a separate process with exactly ``env``."""
    return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(CONSOLE_SCRIPT), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
