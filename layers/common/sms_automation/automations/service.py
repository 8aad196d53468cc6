"""Starting an automation and reading a run back: the one path every way to start goes through.

``AutomationStarter.start`` checks the request against the account's *current* trigger file
and stores the run's origin (its trigger version pinned) once; the trigger processor picks it
up from the table's stream and runs it like a message. A retry with the same idempotency key
gets the same run back; with the same key and a different request, a conflict.

Both sides work through ports (``typing.Protocol``); ``composition.automations`` builds them on
the app table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sms_automation.accounts import ACCOUNT_NAME_PATTERN, Account
from sms_automation.automations.start import (
    RUN_ID_PATTERN,
    PinnedTriggers,
    RejectionReason,
    StartRejected,
    StartRequest,
    build_origin,
    check_idempotency_key,
    request_fingerprint,
    run_id_for,
)
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.triggers.versions import PerVersion, StoredTriggers, parsed_trigger_files

if TYPE_CHECKING:
    from sms_automation.action_log import ActionLog
    from sms_automation.triggers.model import Automation, TriggerSet


class RunStoreUnavailable(RuntimeError):
    """The run store did not answer or refused for now (throttled, 5xx): nothing was started;
    try again. Any other store error is raised as the store raised it: no retry fixes it."""


class AccountLookup(Protocol):
    def get(self, name: str) -> Account | None: ...


class CurrentTriggers(Protocol):
    def current(self, account: str) -> StoredTriggers | None: ...


class RunOrigins(Protocol):
    """Automation runs' origins (what was asked, by whom, pinned to which trigger version)."""

    def put_new(self, origin: Mapping[str, Any]) -> dict[str, Any] | None:
        """Store the origin unless its run id exists: ``None`` when stored, else the existing.
        Raises ``RunStoreUnavailable`` when the store fails for now (nothing stored)."""
        ...

    def get(self, run_id: str) -> dict[str, Any] | None: ...

    def list_for_account(
        self,
        account: str,
        *,
        automation: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> Iterable[dict[str, Any]]:
        """Newest first; with ``automation`` (any case), only that automation's runs; with
        ``before`` (``run_position`` of a run), only the runs listed after that one."""
        ...


class RunStatus(Protocol):
    @property
    def status(self) -> str: ...


class RunStatuses(Protocol):
    """The runs' evaluations (how far each run got), by run id."""

    def get_many(self, message_sids: Sequence[str]) -> Mapping[str, RunStatus]: ...


@dataclass(frozen=True, slots=True)
class StartedRun:
    run_id: str
    account: str
    automation: str
    created: bool
    """False: the idempotency key named a run that already exists (this is that run)."""
    requested_at: str
    trigger_version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "account": self.account,
            "automation": self.automation,
            "created": self.created,
            "requested_at": self.requested_at,
            "trigger_version": self.trigger_version,
        }


class AutomationStarter:
    def __init__(
        self,
        *,
        accounts: AccountLookup,
        triggers: CurrentTriggers,
        runs: RunOrigins,
        clock: Callable[[], datetime],
        parsed: PerVersion[TriggerSet] | None = None,
    ) -> None:
        self._accounts = accounts
        self._triggers = triggers
        self._runs = runs
        self._clock = clock
        self._parsed = parsed if parsed is not None else parsed_trigger_files()

    def find(
        self, account: str, name: str, current: StoredTriggers | None = None
    ) -> tuple[Automation, PinnedTriggers]:
        """The automation in the account's current trigger file (``current``: already read
        for this request, not read again), or a 404 ``StartRejected``."""
        if not ACCOUNT_NAME_PATTERN.fullmatch(account) or self._accounts.get(account) is None:
            raise StartRejected(
                RejectionReason.ACCOUNT_NOT_FOUND, f"there is no account {account!r}"
            )
        stored = current if current is not None else self._triggers.current(account)
        automation = None
        if stored is not None:
            automation = self._parsed.get(account, stored).automation(name)
        if stored is None or automation is None:
            raise StartRejected(
                RejectionReason.AUTOMATION_NOT_FOUND,
                f"account {account!r} has no automation {name[:80]!r} in its current trigger file",
            )
        return automation, PinnedTriggers(stored.version, stored.fingerprint)

    def start(self, request: StartRequest, current: StoredTriggers | None = None) -> StartedRun:
        """Raises ``StartRejected`` (nothing stored) or ``RunStoreUnavailable`` (retry).

        ``current``: the trigger file the request was read from (a schedule's), so the run is
        pinned to that version and the file is not read again."""
        check_idempotency_key(request.idempotency_key)
        automation, pinned = self.find(request.account, request.automation, current)
        run_id = run_id_for(request.account, request.idempotency_key)
        requested_at = utc_timestamp(self._clock())
        origin = build_origin(
            automation, request, pinned=pinned, run_id=run_id, requested_at=requested_at
        )
        existing = self._runs.put_new(origin)
        if existing is None:
            return _started(origin, created=True)
        if existing.get("request_fingerprint") != request_fingerprint(request):
            raise StartRejected(
                RejectionReason.IDEMPOTENCY_CONFLICT,
                "this idempotency key already started a run with a different request "
                f"(run {existing['run_id']}); use a new key for a new run",
            )
        return _started(existing, created=False)


def _started(origin: Mapping[str, Any], *, created: bool) -> StartedRun:
    return StartedRun(
        run_id=str(origin["run_id"]),
        account=str(origin["account"]),
        automation=str(origin["automation"]),
        created=created,
        requested_at=str(origin["requested_at"]),
        trigger_version=int(origin["trigger_version"]),
    )


# ---------------------------------------------------------------------------------------------
# Reading a run back
# ---------------------------------------------------------------------------------------------

QUEUED = "queued"
"""Stored, not yet picked up by the trigger processor."""
ENDED_STATUSES = frozenset({"completed", "stopped"})


class AutomationRuns:
    """Runs read back: one with its status and action log, or an account's recent ones."""

    def __init__(self, *, origins: RunOrigins, statuses: RunStatuses, log: ActionLog) -> None:
        self._origins = origins
        self._statuses = statuses
        self._log = log

    def describe(self, run_id: str, *, account: str | None = None) -> dict[str, Any] | None:
        """A run's origin, status and action log; ``None`` when there is no such run (or it
        belongs to another account than ``account``)."""
        if not RUN_ID_PATTERN.fullmatch(run_id):
            return None
        origin = self._origins.get(run_id)
        if origin is None or (account is not None and origin.get("account") != account):
            return None
        log = self._log.of(run_id)  # reads the evaluation too
        evaluation: Mapping[str, Any] = log["evaluation"] or {}
        status = str(evaluation.get("status") or QUEUED)
        return {
            "run_id": run_id,
            "account": origin["account"],
            "automation": origin["automation"],
            "status": status,
            "ended": status in ENDED_STATUSES,
            "to": origin["to"],
            "from": origin["from"],
            "variables": origin.get("variables", {}),
            "source": origin.get("source", ""),
            "requested_by": origin.get("requested_by", ""),
            "requested_at": origin["requested_at"],
            "trigger_version": origin["trigger_version"],
            "finished_at": evaluation.get("finished_at", ""),
            "waiting_at": evaluation.get("paused_at", ""),
            "diagnostics": [dict(d) for d in evaluation.get("diagnostics", ())],
            "steps": log["steps"],
            "conversations": self._log.conversations(run_id),
        }

    def recent(
        self,
        account: str,
        *,
        automation: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[dict[str, Any]]:
        """Recent runs of an account (optionally of one automation), newest first, without
        logs; ``before``: the ``run_position`` of the last run already listed."""
        listed = self._origins.list_for_account(
            account, automation=automation, limit=limit, before=before
        )
        origins = list(listed)
        runs = self._statuses.get_many([str(o["run_id"]) for o in origins])
        return [
            {
                "run_id": origin["run_id"],
                "automation": origin["automation"],
                "status": runs[origin["run_id"]].status if origin["run_id"] in runs else QUEUED,
                "requested_at": origin["requested_at"],
                "source": origin.get("source", ""),
            }
            for origin in origins
        ]


def run_position(run: Mapping[str, Any]) -> str:
    """Where a run sits in its account's (and its automation's) listing: the index sort key
    ``{requested_at}#{run_id}`` (``start.build_origin``)."""
    return f"{run['requested_at']}#{run['run_id']}"
