"""Code run in a fresh interpreter (this one), as a Lambda cold start sees it: nothing the test
process has imported is loaded there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_python(code: str, *, pythonpath: str | Path | None = None) -> str:
    """``python -c code`` with only ``pythonpath`` before the interpreter's own packages; its
    standard output. Fails the test with the child's standard error when it fails."""
    env = {"PATH": os.defpath}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    result = subprocess.run(  # noqa: S603 (our own interpreter and the test's code)
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
