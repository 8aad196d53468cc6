"""The local stack for the end-to-end tests: brought up once per session by the same code as
``make run`` (``sms_automation_local.stack.LocalStack``), on a free port with its own state
folder, so a developer's running ``make run`` is left alone; torn down at the end, every process
stopped.

A prerequisite missing outside CI skips the tests (with the command to fix it); with ``CI`` set
it fails them. A build, emulator or deploy failure always fails them: they prove it deploys.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from sms_automation_local.layout import ROOT, Layout, MissingPrerequisite
from sms_automation_local.processes import unused_port
from sms_automation_local.stack import LocalStack
from sms_automation_local.state import ENV_STATE_FILE, LocalState
from tests.support.cli import console_script

_TIMINGS: dict[str, float] = {}


def _ensure_prerequisites(layout: Layout) -> None:
    try:
        layout.check_prerequisites()
        return
    except MissingPrerequisite:
        pass
    # The same make targets `make run` depends on (cheap no-ops once installed).
    made = subprocess.run(
        ["make", "--no-print-directory", "-s", "install", "tools", "emulator"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        layout.check_prerequisites()
    except MissingPrerequisite as error:
        message = f"{error}\n{made.stdout}{made.stderr}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(f"local stack prerequisites missing: {message}")


@pytest.fixture(scope="session")
def local_layout(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """Where the session's stack keeps its build, logs and state."""
    layout = Layout(home=tmp_path_factory.mktemp("local-stack"))
    _ensure_prerequisites(layout)
    return layout


@pytest.fixture(scope="session")
def local_stack(local_layout: Layout) -> Iterator[LocalState]:
    layout = local_layout
    stack = LocalStack(
        layout=layout,
        port=unused_port(),
        sandbox_port=unused_port(),
        report=lambda _message: None,
    )
    started = time.monotonic()
    try:
        state = stack.up()  # on failure it has already stopped what it started
    except Exception as error:
        logs = "\n".join(f"  {log}" for log in sorted(layout.logs.glob("*.log")))
        pytest.fail(f"the local stack did not come up: {error}\nlogs:\n{logs}", pytrace=False)
    _TIMINGS.update(stack.timings)
    _TIMINGS["up (total)"] = time.monotonic() - started
    try:
        yield state
    finally:
        stopped = time.monotonic()
        stack.down()
        _TIMINGS["down"] = time.monotonic() - stopped


@pytest.fixture(scope="session")
def cli_env(local_stack: LocalState, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment `make run` prints, for the console script run as a subprocess."""
    state_file = tmp_path_factory.getbasetemp() / "state.json"
    local_stack.write(state_file)
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return {**keep, **local_stack.environment(), ENV_STATE_FILE: str(state_file)}


sms_automation = console_script


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _TIMINGS:
        terminalreporter.section("local stack timings (e2e)")
        for step, seconds in _TIMINGS.items():
            terminalreporter.write_line(f"{step:<14} {seconds:6.1f} s")
