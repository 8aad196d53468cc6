"""The console's automations page: an account's automations with their typed inputs, starting
one from the page's form, and the account's runs with their status and action log.

- **Listing** reads the account's *current* trigger file (what a start is checked against) and
  shows each automation's inputs as the form needs them: name, type, required, default,
  description. The page builds its form from them; it only hints. The authority is the one
  starter every way to start goes through (``automations.service.AutomationStarter``): the same
  checks, every problem named per field (``variables.NAME``, ``to``, ``from``), nothing stored
  on a refusal.
- **Starting** (operator or admin: the route's role, ``console.http``) records the run as
  started from the console by the user's e-mail (``source`` ``console``). The page sends an
  idempotency key per submitted form; the run id is derived from it (``console:`` + the key,
  per account), and the run is stored on condition that it does not exist yet: a double
  submit, or two requests at the same moment, start one run and both get it back. Only the
  request that stored the run writes the audit record (``automation.start``).
- **Runs** are listed newest first, a page at a time (the cursor names the account and the
  last run's position; it is refused for another account), with each run's status; a run's
  detail is its origin, status and action log, and a run of another account is not found.

Every use case checks the account against the user's scope first (``AccessDenied``). Pure: the
starter, the readers and the audit trail come in as ports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from sms_automation.automations.service import run_position
from sms_automation.automations.start import (
    RejectionReason,
    StartRejected,
    StartRequest,
    StartSource,
    invalid_field,
)
from sms_automation.console.access import Principal
from sms_automation.console.queries import BadRequest, Cursor, decode_cursor, only, page_limit
from sms_automation.console.reads import NotFound

if TYPE_CHECKING:
    from sms_automation.automations.service import StartedRun
    from sms_automation.triggers.model import Automation
    from sms_automation.triggers.versions import StoredTriggers

IDEMPOTENCY_PREFIX: Final = "console:"
START_FIELDS: Final = frozenset({"to", "from", "variables", "idempotency_key"})
_FORM_KEY: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_NAME: Final = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")


class AuditTrail(Protocol):
    """Who changed what (``console.audit``'s ``AuditLog.record``; ``once``: the action's own
    identity, recorded once whoever asks again)."""

    def record(
        self, *, actor: str, action: str, account: str, target: str, detail: Mapping[str, Any],
        once: str | None = None,
    ) -> Any: ...  # fmt: skip


class AutomationFiles(Protocol):
    """The account's current trigger file and its automations."""

    def current(self, account: str) -> StoredTriggers | None: ...

    def automations(self, account: str, stored: StoredTriggers) -> list[Automation]: ...


class Starter(Protocol):
    def start(self, request: StartRequest) -> StartedRun:
        """Raises ``StartRejected`` (nothing stored) or ``RunStoreUnavailable`` (retry)."""
        ...


class RunReader(Protocol):
    def describe(self, run_id: str, *, account: str | None = None) -> dict[str, Any] | None: ...

    def recent(
        self, account: str, *, automation: str | None = None, limit: int = 50,
        before: str | None = None,
    ) -> list[dict[str, Any]]: ...  # fmt: skip


class AccountNames(Protocol):
    def exists(self, account: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class ConsoleAutomations:
    accounts: AccountNames
    files: AutomationFiles
    starter: Starter
    runs: RunReader
    audit: AuditTrail

    def list(self, principal: Principal, account: str) -> dict[str, Any]:
        self._account(principal, account)
        stored = self.files.current(account)
        if stored is None:
            return {"trigger_version": None, "items": []}
        automations = self.files.automations(account, stored)
        return {"trigger_version": stored.version, "items": [form_of(a) for a in automations]}

    def start(
        self, principal: Principal, account: str, automation: str, body: Mapping[str, Any]
    ) -> tuple[bool, dict[str, Any]]:
        """``(created, run)``; ``StartRejected`` names every problem (nothing started)."""
        principal.require_account(account)  # the starter reads the account (404): once
        request = start_request(account, automation_name(automation), body, principal.email)
        started = self.starter.start(request)
        # once per run (its id): also when a retry finds it started (the first request's
        # audit write may have failed), and once when two requests start it at the same moment
        self.audit.record(
            actor=principal.email,
            action="automation.start",
            account=account,
            target=started.automation,
            detail={"run_id": started.run_id, "trigger_version": started.trigger_version},
            once=started.run_id,
        )
        return started.created, started.as_dict()

    def run_page(
        self, principal: Principal, account: str, query: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._account(principal, account)
        only(query, {"automation", "cursor", "limit"})
        automation = query.get("automation") or None
        if automation is not None and not _NAME.fullmatch(str(automation)):
            raise BadRequest("automation must be an automation's name (1-128 characters)")
        limit = page_limit(query.get("limit"))
        cursor = query.get("cursor") or None
        before = None
        if cursor is not None:
            if not isinstance(cursor, str):
                raise BadRequest("cursor: pass next_cursor back as it came")
            position = decode_cursor(cursor)
            if position.account != account:
                principal.require_account(position.account)
                raise BadRequest("the cursor belongs to another account's runs")
            before = position.after
        runs = self.runs.recent(account, automation=automation, limit=limit + 1, before=before)
        page, more = runs[:limit], len(runs) > limit
        next_cursor = Cursor(account, run_position(page[-1])).encode() if more else None
        return {"items": page, "next_cursor": next_cursor}

    def run(self, principal: Principal, account: str, run_id: str) -> dict[str, Any]:
        self._account(principal, account)
        found = self.runs.describe(run_id, account=account)
        if found is None:
            raise NotFound(f"account {account!r} has no run {run_id[:40]!r}")
        return found

    def _account(self, principal: Principal, account: str) -> None:
        principal.require_account(account)  # before any read: no existence oracle
        if not self.accounts.exists(account):
            raise NotFound(f"no account {account!r}")


def form_of(automation: Automation) -> dict[str, Any]:
    """What the page builds a form from: the inputs as the trigger file declares them."""
    return {
        "name": automation.name,
        "description": automation.description,
        "enabled": automation.enabled,
        "from": automation.from_,
        "inputs": [
            {
                "name": item.name,
                "type": item.type,
                "required": item.required,
                "default": item.default,
                "description": item.description,
            }
            for item in automation.inputs
        ],
    }


def start_request(
    account: str, automation: str, body: Mapping[str, Any], user: str
) -> StartRequest:
    """The starter's request for a submitted form, or ``StartRejected`` (400) naming the field:
    an unknown field, or a missing or malformed form key."""
    unknown = sorted(str(name)[:40] for name in body if name not in START_FIELDS)
    if unknown:
        raise invalid_field(unknown[0], "not a field of a start (to, from, variables, "
                                        "idempotency_key)")  # fmt: skip
    key = body.get("idempotency_key")
    if not isinstance(key, str) or not _FORM_KEY.fullmatch(key):
        raise invalid_field(
            "idempotency_key", "required: 16-64 letters, digits, - or _, one per submitted form"
        )
    variables = body.get("variables")
    return StartRequest(
        account=account,
        automation=automation,
        to=body.get("to"),
        variables={} if variables is None else variables,
        from_=body.get("from") or None,
        idempotency_key=IDEMPOTENCY_PREFIX + key,
        source=StartSource.CONSOLE,
        requested_by=user,
    )


def automation_name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise StartRejected(
            RejectionReason.AUTOMATION_NOT_FOUND, "an automation's name is 1-128 characters"
        )
    return value
