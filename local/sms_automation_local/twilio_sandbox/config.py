"""The sandbox process's configuration: a JSON file the runner writes (accounts with their
numbers, the contacts offered on the simulator page, numbers configured to fail, the stack's
table). It holds the demo account's token, a published local-only value."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from sms_automation_local.twilio_sandbox.stack_reader import StackTable

UNREACHABLE_NUMBER: Final = "+15005550404"
"""Messages to it are accepted, then end ``undelivered`` with 30003 (unreachable handset)."""
FAILING_NUMBER: Final = "+15005550500"
"""Messages to it are accepted, then end ``failed`` with 30008 (unknown error)."""
DEFAULT_FAILURES: Final = {
    UNREACHABLE_NUMBER: {"status": "undelivered", "error_code": 30003},
    FAILING_NUMBER: {"status": "failed", "error_code": 30008},
}


@dataclass(frozen=True, slots=True)
class SandboxNumber:
    phone_number: str
    sms_url: str | None = None


@dataclass(frozen=True, slots=True)
class SandboxAccount:
    name: str
    account_sid: str
    auth_token: str
    numbers: list[SandboxNumber] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    port: int
    accounts: list[SandboxAccount]
    contacts: list[str] = field(default_factory=list)
    delivery_failures: dict[str, dict[str, Any]] = field(
        default_factory=lambda: dict(DEFAULT_FAILURES)
    )
    table: StackTable | None = None
    console: dict[str, str] | None = None
    """The local web console's ``url``, ``email`` and ``password`` (the simulator links to it)."""

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        path.chmod(0o600)

    @classmethod
    def read(cls, path: Path) -> SandboxConfig:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        accounts = [
            SandboxAccount(
                name=a["name"],
                account_sid=a["account_sid"],
                auth_token=a["auth_token"],
                numbers=[SandboxNumber(**n) for n in a.get("numbers", [])],
            )
            for a in data["accounts"]
        ]
        table = StackTable(**data["table"]) if data.get("table") else None
        return cls(
            port=int(data["port"]),
            accounts=accounts,
            contacts=list(data.get("contacts", [])),
            delivery_failures=dict(data.get("delivery_failures", DEFAULT_FAILURES)),
            table=table,
            console=data.get("console"),
        )
