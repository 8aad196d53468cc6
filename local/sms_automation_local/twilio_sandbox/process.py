"""The Twilio sandbox as a process the runner manages: ``python -m
sms_automation_local.twilio_sandbox`` in the project venv, detached in its own session like the
emulator, on 127.0.0.1:``port``."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from sms_automation_local.layout import Layout
from sms_automation_local.processes import (
    LOOPBACK,
    listening_pids,
    require_free_port,
    spawn,
    stop_group,
)
from sms_automation_local.state import ProcessInfo
from sms_automation_local.twilio_sandbox.config import SandboxConfig
from sms_automation_local.twilio_sandbox.server import READY_PATH

DEFAULT_SANDBOX_PORT = 4570
READY_TIMEOUT_SECONDS = 30.0


class SandboxFailed(RuntimeError):
    pass


def sandbox_ready(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url + READY_PATH, timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class SandboxProcess:
    layout: Layout
    config: SandboxConfig
    name: str = "twilio-sandbox"
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.config.port}"

    @property
    def log(self) -> str:
        return str(self.layout.logs / "twilio-sandbox.log")

    def start(self) -> ProcessInfo:
        require_free_port(self.config.port, "the Twilio sandbox")
        config_file = self.layout.home / "twilio-sandbox.json"
        self.config.write(config_file)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(PYTHONPATH=self.layout.python_path, PYTHONUNBUFFERED="1")
        self._process = spawn(
            [
                str(self.layout.project_bin / "python"),
                "-m",
                "sms_automation_local.twilio_sandbox",
                str(config_file),
            ],
            env=env,
            log=self.layout.logs / "twilio-sandbox.log",
            cwd=self.layout.home,
        )
        self._wait_ready(self._process)
        return ProcessInfo(pid=self._process.pid, port=self.config.port, log=self.log)

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SandboxFailed(
                    f"the Twilio sandbox exited with code {process.returncode} (see {self.log})"
                )
            if sandbox_ready(self.url):
                owners = listening_pids(self.config.port)
                if owners and process.pid not in owners:
                    raise SandboxFailed(
                        f"port {self.config.port} answers, but from PID {sorted(owners)}, not "
                        f"the sandbox we started (PID {process.pid})"
                    )
                return
            time.sleep(0.1)
        raise SandboxFailed(f"the Twilio sandbox did not start in time (see {self.log})")

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self._process is not None:
            stop_group(self._process.pid)
            self._process.wait(timeout=5)
            self._process = None
