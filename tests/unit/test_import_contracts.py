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
PACKAGES = (
    ROOT / "layers" / "common" / "sms_automation",
    ROOT / "cli" / "sms_automation_cli",
    ROOT / "local" / "sms_automation_local",
)


def lint_imports(*folders: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the repository's contracts over the packages found in ``folders``
    (the layer's, the CLI's and the local stack's)."""
    command = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(  # noqa: S603 (the venv's own lint-imports, our own arguments)
        [command, "--config", ROOT / "pyproject.toml", "--no-cache", "--no-logo"],
        cwd=ROOT,
        env={"PATH": os.defpath, "PYTHONPATH": os.pathsep.join(map(str, folders))},
        capture_output=True,
        text=True,
        check=False,
    )


def test_import_contracts_are_kept_by_the_layer_the_cli_and_the_local_stack() -> None:
    result = lint_imports(*(package.parent for package in PACKAGES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "added_import", "broken"),
    [
        (
            "sms_automation/outbound.py",
            "from sms_automation.adapters import scheduler",
            "The domain imports no adapter, no AWS SDK and no Twilio SDK BROKEN",
        ),
        (
            "sms_automation/keys.py",
            "import boto3",
            "The domain imports no adapter, no AWS SDK and no Twilio SDK BROKEN",
        ),
        (
            "sms_automation/adapters/scheduler.py",
            "from sms_automation_cli import main",
            "What Lambda runs never imports the CLI or the local tooling BROKEN",
        ),
        (
            "sms_automation/pii.py",
            "from sms_automation import opt_out",
            "No import cycles between the packages or modules of one package BROKEN",
        ),
        (
            "sms_automation_cli/numbers.py",
            "from sms_automation_cli import accounts",
            "No import cycles between the packages or modules of one package BROKEN",
        ),
        (
            "sms_automation_local/state.py",
            "from sms_automation_local import stack",
            "No import cycles between the packages or modules of one package BROKEN",
        ),
    ],
)
def test_import_contracts_reject_a_forbidden_import(
    tmp_path: Path, module: str, added_import: str, broken: str
) -> None:
    # Given a copy of the packages with one import added
    for package in PACKAGES:
        shutil.copytree(
            package, tmp_path / package.name, ignore=shutil.ignore_patterns("__pycache__")
        )
    changed = tmp_path / module
    changed.write_text(changed.read_text() + f"\n{added_import}  # noqa\n")
    # When the contracts are checked, Then the one that forbids it is broken
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert broken in result.stdout
