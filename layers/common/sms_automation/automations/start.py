"""A start request checked against an automation: the run's origin, or every problem named.

Pure: no AWS, no clock (the caller passes ``now`` and the run id).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from sms_automation import keys
from sms_automation.triggers.inputs import ADDRESS_PATTERN, InvalidInput, coerce_input

if TYPE_CHECKING:
    from sms_automation.triggers.model import Automation

MAX_VARIABLES: Final = 50
IDEMPOTENCY_KEY_PATTERN: Final = re.compile(r"^[\x21-\x7e]{1,255}$")
RUN_ID_PATTERN: Final = re.compile(r"^RU[0-9a-f]{32}$")
_ADDRESS = re.compile(ADDRESS_PATTERN)


class StartSource(StrEnum):
    API = "api"
    CLI = "cli"
    CONSOLE = "console"
    EVENT = "event"
    SCHEDULE = "schedule"
    BROADCAST = "broadcast"


BULK_PRIORITY: Final = "bulk"
"""A broadcast row's run: its sends wait behind replies (the origin's ``priority``)."""


@dataclass(frozen=True, slots=True)
class StartRequest:
    account: str
    automation: str
    to: Any
    """The contact (E.164 or whatsapp:+E.164); ``Any`` because it comes from JSON."""
    variables: Mapping[str, Any] = field(default_factory=dict)
    from_: Any = None
    idempotency_key: str | None = None
    source: StartSource = StartSource.API
    requested_by: str = ""
    """Who asked: the IAM principal, the event's source, the schedule's name (for the log)."""


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class RejectionReason(StrEnum):
    ACCOUNT_NOT_FOUND = "account_not_found"
    AUTOMATION_NOT_FOUND = "automation_not_found"
    AUTOMATION_DISABLED = "automation_disabled"
    INVALID_REQUEST = "invalid_request"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"


STATUS_BY_REASON: Final = {
    RejectionReason.ACCOUNT_NOT_FOUND: 404,
    RejectionReason.AUTOMATION_NOT_FOUND: 404,
    RejectionReason.AUTOMATION_DISABLED: 409,
    RejectionReason.INVALID_REQUEST: 400,
    RejectionReason.IDEMPOTENCY_CONFLICT: 409,
}


class StartRejected(Exception):
    """Nothing was started; ``reason`` maps to an HTTP status, ``problems`` name each field."""

    def __init__(
        self, reason: RejectionReason, message: str, problems: tuple[Problem, ...] = ()
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.problems = problems

    @property
    def status(self) -> int:
        return STATUS_BY_REASON[self.reason]

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.reason.value, "message": self.message}
        if self.problems:
            body["problems"] = [problem.as_dict() for problem in self.problems]
        return body


def invalid_field(name: str, message: str) -> StartRejected:
    """An invalid request, its one problem the field ``name``."""
    return StartRejected(
        RejectionReason.INVALID_REQUEST, f"{name}: {message}", (Problem(name, message),)
    )


def run_id_for(account: str, idempotency_key: str | None) -> str:
    """With a key, the same id for every retry (the conditional write then starts one run)."""
    if idempotency_key is None:
        return "RU" + uuid.uuid4().hex
    digest = hashlib.sha256(f"{account}\n{idempotency_key}".encode()).hexdigest()
    return "RU" + digest[:32]


def request_fingerprint(request: StartRequest) -> str:
    """What a retry must repeat for its key to mean "the same request"."""
    canonical = json.dumps(
        {
            "automation": request.automation.casefold(),
            "to": request.to,
            "from": request.from_,
            "variables": dict(request.variables),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_idempotency_key(key: object) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
        raise StartRejected(
            RejectionReason.INVALID_REQUEST,
            "the idempotency key must be 1-255 printable ASCII characters without spaces",
            (Problem("idempotency_key", "1-255 printable ASCII characters, no spaces"),),
        )
    return key


@dataclass(frozen=True, slots=True)
class PinnedTriggers:
    """The account's current trigger-file version, which the run will use to its end."""

    version: int
    fingerprint: str


def build_origin(
    automation: Automation,
    request: StartRequest,
    *,
    pinned: PinnedTriggers,
    run_id: str,
    requested_at: str,
) -> dict[str, Any]:
    """The run's origin item, or ``StartRejected`` naming every problem of the request."""
    if not automation.enabled:
        raise StartRejected(
            RejectionReason.AUTOMATION_DISABLED,
            f"automation {automation.name!r} is disabled in the account's trigger file",
        )
    problems: list[Problem] = []
    to = _address(request.to, "to", problems, required=True)
    our_number = _address(request.from_, "from", problems, required=False) or automation.from_
    if our_number is None and not any(p.field == "from" for p in problems):
        problems.append(
            Problem("from", "this automation declares no 'from' number: give our number")
        )
    variables = resolve_variables(automation, request.variables, problems)
    if problems:
        raise StartRejected(
            RejectionReason.INVALID_REQUEST,
            f"the request to start {automation.name!r} is not valid: "
            + "; ".join(f"{p.field}: {p.message}" for p in problems),
            tuple(problems),
        )
    assert to is not None
    assert our_number is not None
    params = {
        **variables,
        "From": to,
        "To": our_number,
        "contact": to,
        "our_number": our_number,
        "run_id": run_id,
        "automation": automation.name,
    }
    return {
        **keys.automation_run_key(run_id),
        "kind": keys.KIND_AUTOMATION_RUN,
        "message_sid": run_id,
        "run_id": run_id,
        "account": request.account,
        "automation": automation.name,
        "trigger_version": pinned.version,
        "fingerprint": pinned.fingerprint,
        "to": to,
        "from": our_number,
        "variables": variables,
        "params": params,
        "source": request.source.value,
        "requested_by": request.requested_by[:512],
        "idempotency_key": request.idempotency_key or "",
        "request_fingerprint": request_fingerprint(request),
        "requested_at": requested_at,
        **({"priority": BULK_PRIORITY} if request.source is StartSource.BROADCAST else {}),
        "received_at": requested_at,  # the time the processor evaluates with (as a message's)
        keys.GSI1_PK: keys.account_runs_index_pk(request.account),
        keys.GSI1_SK: f"{requested_at}#{run_id}",
        keys.GSI2_PK: keys.automation_runs_index_pk(request.account, automation.name),
        keys.GSI2_SK: f"{requested_at}#{run_id}",
    }


def resolve_variables(
    automation: Automation, given: Mapping[str, Any], problems: list[Problem]
) -> dict[str, str]:
    """Each declared input's text (given, else its default); unknown names are problems."""
    if not isinstance(given, Mapping):
        problems.append(Problem("variables", "must be an object of name → value"))
        return {}
    if len(given) > MAX_VARIABLES:
        problems.append(Problem("variables", f"at most {MAX_VARIABLES} variables"))
        return {}
    resolved: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in given.items():
        declared = automation.input(str(name))
        if declared is None:
            known = ", ".join(item.name for item in automation.inputs) or "none"
            problems.append(
                Problem(f"variables.{name}", f"not an input of this automation (inputs: {known})")
            )
            continue
        if declared.name.casefold() in seen:
            problems.append(Problem(f"variables.{name}", "given twice (names ignore case)"))
            continue
        seen.add(declared.name.casefold())
        try:
            resolved[declared.name] = coerce_input(declared.type, value)
        except InvalidInput as error:
            problems.append(Problem(f"variables.{declared.name}", str(error)))
    for item in automation.inputs:
        if item.name in resolved or item.name.casefold() in seen:
            continue
        if item.required:
            problems.append(Problem(f"variables.{item.name}", f"required ({item.type})"))
        elif item.default is not None:
            resolved[item.name] = coerce_input(item.type, item.default)
        else:
            resolved[item.name] = ""
    return resolved


def _address(value: Any, name: str, problems: list[Problem], *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            problems.append(Problem(name, "required: the contact's number in E.164 form"))
        return None
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value.strip()):
        problems.append(
            Problem(name, "expected a number in E.164 form (+15551234567) or whatsapp:+E.164")
        )
        return None
    return value.strip()
