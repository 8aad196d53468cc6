"""``.local/state.json``: what the runner started (ports, PIDs, URLs), for the CLI to find it.

Written by the runner once the stack is up, removed when it stops. The file holds no secret:
the demo account's token is a published local-only value (``demo.py``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from sms_automation import webhook_urls

STATE_DIR_NAME: Final = ".local"
STATE_FILE_NAME: Final = "state.json"
ENV_STATE_FILE: Final = "SMS_AUTOMATION_LOCAL_STATE"
SCHEMA: Final = 1


class StateNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """A process the runner started and stops: its PID (a process-group leader) and port."""

    pid: int
    port: int | None = None
    log: str | None = None


@dataclass(frozen=True, slots=True)
class LocalState:
    endpoint_url: str  # the emulator, AWS_ENDPOINT_URL for every AWS client
    region: str
    stack_name: str
    api_id: str
    webhook_base_url: str  # PublicBaseUrl: the API stage's invoke URL (or through the tunnel)
    demo_account: str
    demo_account_sid: str
    demo_number: str
    runner_pid: int
    processes: dict[str, ProcessInfo] = field(default_factory=dict)
    started_at: str = ""
    sandbox_url: str = ""  # the Twilio sandbox (TwilioApiBaseUrl of the deployed stack)
    simulator_url: str = ""  # the phone simulator page, served by the sandbox
    automations_api_url: str = ""  # the automations API stage's invoke URL (IAM; SigV4)
    console_url: str = ""  # the web console, served by the emulator's S3 ("" if none)
    console_email: str = ""  # its demo admin (password: demo.DEMO_CONSOLE_PASSWORD)
    schema: int = SCHEMA

    def messaging_request_url(self, account: str) -> str:
        return webhook_urls.messaging_request_url(self.webhook_base_url, account)

    def environment(self) -> dict[str, str]:
        """What the ``sms-automation`` CLI (and any boto3 client) needs to reach the stack."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": self.region,
            "SMS_AUTOMATION_STACK": self.stack_name,
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LocalState:
        data: dict[str, Any] = json.loads(text)
        if data.get("schema") != SCHEMA:
            raise ValueError(f"unsupported state file schema {data.get('schema')!r}")
        processes = {
            name: ProcessInfo(**info) for name, info in (data.pop("processes", None) or {}).items()
        }
        return cls(**data, processes=processes)

    def write(self, path: Path) -> None:
        """Atomically: a reader sees the old file or the new one, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.write_text(self.to_json(), encoding="utf-8")
        partial.replace(path)


def find_state_file(start: Path | None = None, environ: dict[str, str] | None = None) -> Path:
    """``$SMS_AUTOMATION_LOCAL_STATE``, else ``.local/state.json`` here or in a parent folder."""
    env = os.environ if environ is None else environ
    explicit = env.get(ENV_STATE_FILE)
    if explicit:
        return Path(explicit)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / STATE_DIR_NAME / STATE_FILE_NAME
        if candidate.is_file():
            return candidate
    raise StateNotFound(
        f"no local stack found ({STATE_DIR_NAME}/{STATE_FILE_NAME} in {here} or a parent folder): "
        f"start one with `make run`, or point ${ENV_STATE_FILE} at its state file"
    )


def load_state(path: Path | None = None) -> LocalState:
    state_file = path or find_state_file()
    try:
        return LocalState.from_json(state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StateNotFound(f"{state_file} does not exist: is `make run` running?") from None
    except (ValueError, TypeError) as error:
        raise StateNotFound(f"{state_file} is not a state file of this version: {error}") from None
