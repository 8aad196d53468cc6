"""Every state machine definition passes the npm ``asl-validator`` (``tools/asl``, pinned by its
``package-lock.json``; installed here with ``npm ci`` when missing). Without Node the test is
skipped on a developer machine and fails in CI (``CI`` set), like the contract tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.template import ROOT

pytestmark = pytest.mark.template

ASL_TOOLS = ROOT / "tools" / "asl"
VALIDATOR = ASL_TOOLS / "node_modules" / ".bin" / "asl-validator"
DEFINITIONS = sorted((ROOT / "statemachines").glob("*.asl.json"))


def _require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        reason = f"`{program}` not found: Node.js 20+ runs asl-validator"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set: it must run here")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def validator() -> Path:
    if VALIDATOR.exists():
        return VALIDATOR
    result = subprocess.run(  # noqa: S603 - npm from PATH, fixed arguments, our own directory
        [_require("npm"), "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=ASL_TOOLS,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not VALIDATOR.exists():
        pytest.fail(f"`npm ci` in {ASL_TOOLS} failed:\n{result.stdout}\n{result.stderr}")
    return VALIDATOR


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda path: path.name)
def test_definition_is_valid_asl(validator: Path, definition: Path) -> None:
    _require("node")
    result = subprocess.run(  # noqa: S603 - our pinned validator on our own file
        [str(validator), "--json-path", str(definition)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_there_is_a_definition() -> None:
    assert [path.name for path in DEFINITIONS] == ["broadcast.asl.json", "conversation.asl.json"]
