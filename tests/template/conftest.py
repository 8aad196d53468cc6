"""Fixtures: template.yaml as loaded YAML, and as CloudFormation after the SAM transform."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.support.template import ROOT, TEMPLATE_PATH, load_template

TOOLS_PYTHON = ROOT / ".venv-tools" / "bin" / "python"
VALIDATOR = ROOT / "tools" / "validate_template.py"


@pytest.fixture(scope="session")
def raw_template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="session")
def transformed_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The SAM transform's output, made by tools/validate_template.py in the tools venv.

    aws-sam-translator pins a pydantic the application cannot use, so it lives in .venv-tools
    and is run as a subprocess; without that venv these tests skip (``make tools`` makes it).
    """
    if not TOOLS_PYTHON.exists():
        pytest.skip(f"{TOOLS_PYTHON.relative_to(ROOT)} missing: run `make tools`")
    output = tmp_path_factory.mktemp("sam") / "transformed-template.json"
    result = subprocess.run(  # noqa: S603 - fixed interpreter and script from this repository
        [
            str(TOOLS_PYTHON),
            str(VALIDATOR),
            str(TEMPLATE_PATH),
            "--transform-only",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        pytest.fail(f"SAM transform failed (exit {result.returncode}):\n{result.stderr}")
    template: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return template
