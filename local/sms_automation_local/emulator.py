"""ministack, the local AWS emulator: start it detached, wait until it (ours, not another) is
ready, stop it and delete its temp files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sms_automation_local.layout import Layout
from sms_automation_local.processes import (
    LOOPBACK,
    listening_pids,
    require_free_port,
    spawn,
    stop_group,
)
from sms_automation_local.readiness import emulator_ready
from sms_automation_local.state import ProcessInfo

DEFAULT_PORT = 4566
ENTRY_POINT = Path(__file__).resolve().parent / "emulator_main.py"  # ministack + one fix
READY_TIMEOUT_SECONDS = 60.0


class EmulatorFailed(RuntimeError):
    pass


def _environment(layout: Layout, port: int) -> dict[str, str]:
    # The developer's AWS settings must not leak into the emulator (it reads AWS_* itself).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        BIND_HOST=LOOPBACK,
        GATEWAY_PORT=str(port),
        # Lambda workers unpack code and layers under TMPDIR and never clean up: ours, deleted
        # on stop. ministack also keeps its PID file there.
        TMPDIR=str(layout.tmp),
        # Listeners we do not use would take more ports (8883 for IoT, 2222 for SFTP).
        IOT_MTLS_ENABLED="0",
        SFTP_ENABLED="0",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Emulator:
    """One ministack server on 127.0.0.1:``port`` with its own TMPDIR under the layout's home."""

    layout: Layout
    port: int = DEFAULT_PORT
    name: str = "emulator"
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log(self) -> str:
        return str(self.layout.logs / "ministack.log")

    def start(self) -> ProcessInfo:
        require_free_port(self.port, "the AWS emulator (ministack)")
        self.layout.tmp.mkdir(parents=True, exist_ok=True)
        self._process = spawn(
            [str(self.layout.emulator_python), str(ENTRY_POINT)],
            env=_environment(self.layout, self.port),
            log=self.layout.logs / "ministack.log",
            cwd=self.layout.home,
        )
        self._wait_ready()
        return ProcessInfo(pid=self._process.pid, port=self.port, log=self.log)

    def _wait_ready(self) -> None:
        process = self._process
        assert process is not None
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise EmulatorFailed(
                    f"ministack exited with code {process.returncode} while starting "
                    f"(see {self.log})"
                )
            if emulator_ready(self.url, timeout=1.0):
                # Another server on the port also answers the ready check: make sure the one
                # listening is the process we started.
                owners = listening_pids(self.port)
                if owners and process.pid not in owners:
                    raise EmulatorFailed(
                        f"port {self.port} answers, but from PID {sorted(owners)}, not the "
                        f"ministack we started (PID {process.pid})"
                    )
                return
            time.sleep(0.2)
        raise EmulatorFailed(
            f"ministack did not become ready in {READY_TIMEOUT_SECONDS:g} s (see {self.log})"
        )

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def reset(self) -> None:
        """Drop every resource the emulator holds (0.4 s); redeploy afterwards."""
        request = urllib.request.Request(  # noqa: S310 (our http URL)
            f"{self.url}/_ministack/reset", method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            json.loads(response.read() or b"{}")

    def stop(self) -> None:
        if self._process is not None:
            stop_group(self._process.pid)
            self._process.wait(timeout=5)
            self._process = None
        shutil.rmtree(self.layout.tmp, ignore_errors=True)
