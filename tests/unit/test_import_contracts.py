"""The import contracts (pyproject's ``[tool.importlinter]``, also run by ``make lint``): the
layer keeps them, and they do catch a domain module reaching an adapter or AWS, and a cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common"
TOOLING = (ROOT / "cli", ROOT / "local")


def lint_imports(layer: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the repository's contracts over the package found in ``layer`` (and
    the CLI's and the local stack's, which they cover too)."""
    command = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(  # noqa: S603 (the venv's own lint-imports, our own arguments)
        [command, "--config", ROOT / "pyproject.toml", "--no-cache", "--no-logo"],
        cwd=ROOT,
        env={"PATH": os.defpath, "PYTHONPATH": os.pathsep.join(map(str, (layer, *TOOLING)))},
        capture_output=True,
        text=True,
        check=False,
    )


def test_import_contracts_are_kept_by_the_layer() -> None:
    result = lint_imports(LAYER)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "added_import", "broken"),
    [
        (
            "outbound.py",
            "from sms_automation.adapters import scheduler",
            "The domain imports no adapter, no AWS SDK and no Twilio SDK BROKEN",
        ),
        (
            "keys.py",
            "import boto3",
            "The domain imports no adapter, no AWS SDK and no Twilio SDK BROKEN",
        ),
        (
            "adapters/scheduler.py",
            "from sms_automation_cli import main",
            "What Lambda runs never imports the CLI or the local tooling BROKEN",
        ),
        (
            "pii.py",
            "from sms_automation import opt_out",
            "No import cycles between the packages or modules of one package BROKEN",
        ),
    ],
)
def test_import_contracts_reject_a_forbidden_import(
    tmp_path: Path, module: str, added_import: str, broken: str
) -> None:
    # Given a copy of the layer with one import added
    shutil.copytree(
        LAYER / "sms_automation",
        tmp_path / "sms_automation",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    changed = tmp_path / "sms_automation" / module
    changed.write_text(changed.read_text() + f"\n{added_import}  # noqa\n")
    # When the contracts are checked, Then the one that forbids it is broken
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert broken in result.stdout
