"""Contract fixtures: Twilio's official OpenAPI spec and Stoplight Prism serving it.

Both come from npm (``tools/twilio-spec``, pinned by its ``package-lock.json``). When they are
not installed yet, ``npm ci`` installs them (``make contract-deps`` does the same). Without Node
the contract tests are skipped on a developer machine and fail in CI (``CI`` set): they are
never silently skipped where they are meant to run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.openapi import (
    SPEC_PATH,
    SPEC_TOOLS_DIR,
    load_spec,
    with_explicit_form_encoding,
)
from tests.contract.prism import Prism

PRISM_BIN = SPEC_TOOLS_DIR / "node_modules" / ".bin" / "prism"
NPM_CI_ARGS = ["ci", "--ignore-scripts", "--no-audit", "--no-fund"]


def _installed() -> bool:
    return PRISM_BIN.exists() and SPEC_PATH.exists()


def _require(program: str) -> str:
    """The program's path; without it, skip on a developer machine and fail in CI."""
    path = shutil.which(program)
    if path is None:
        reason = f"`{program}` not found: Node.js 20+ and npm run the contract tests"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set: they must run here")
        pytest.skip(f"{reason}: install Node 20+, then `make contract-deps`")
    return path


@pytest.fixture(scope="session")
def twilio_spec_installed() -> Path:
    """The spec's path, after ``npm ci`` in ``tools/twilio-spec`` if it was missing."""
    if _installed():
        return SPEC_PATH
    _require("node")
    result = subprocess.run(  # noqa: S603 - npm from PATH, fixed arguments, our own directory
        [_require("npm"), *NPM_CI_ARGS],
        cwd=SPEC_TOOLS_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not _installed():
        pytest.fail(f"`npm ci` in {SPEC_TOOLS_DIR} failed:\n{result.stdout}\n{result.stderr}")
    return SPEC_PATH


@pytest.fixture(scope="session")
def prism(twilio_spec_installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    """``prism mock --errors`` on 127.0.0.1 (an ephemeral port) serving Twilio's API spec,
    with OpenAPI's default form encoding written out (see ``with_explicit_form_encoding``)."""
    _require("node")
    spec = tmp_path_factory.mktemp("twilio-spec") / twilio_spec_installed.name
    spec.write_text(json.dumps(with_explicit_form_encoding(load_spec(twilio_spec_installed))))
    with Prism.start(PRISM_BIN, spec) as server:
        yield server
