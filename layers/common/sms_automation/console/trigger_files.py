"""The console's Triggers page, over ports: an account's trigger file read, validated (each
problem at its line and column), tested against a message (a dry run: nothing sent, nothing
written), compared with the live version, pushed and rolled back, its versions listed.

Every use case takes the ``access.Principal`` first and checks the account against its scope
before anything else (``AccessDenied``). A push or a rollback needs the admin role: its route's
(``console.http`` checks a route's role before anything, in one place). A push
goes through ``triggers.publish`` like ``sms-automation triggers push`` (validated with the
deployment's table known, stored as a new version); the schedule sync follows the version
pointer's stream record as it does for the CLI. Both carry the version the admin edited from:
another push in between is a ``ConcurrentTriggerChange`` (409), nothing stored. Each one that
succeeded is in the audit record (``trigger.push``, ``trigger.rollback``: who, which version,
from which; never the file's text), once per version. A 409 whose next version is this user's
own identical change (the same text pushed, the same version rolled back: their retry, or the
same request twice at once) is that change found done, like a cancel's: audited then if its
entry is missing (``found_done``), never twice; someone else's change is a plain 409, no entry.

Texts are bounded (``MAX_SOURCE_BYTES``, what the store keeps: ``TooLarge``, 413) before the
loader reads them; the loader bounds nesting and aliases (``loader.MAX_DEPTH``,
``loader.MAX_VALUES``) and every pattern's cost.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

from sms_automation.console.access import Principal
from sms_automation.console.audit import AuditLog
from sms_automation.console.reads import AccountReader, MessageRecords, NotFound
from sms_automation.triggers.versions import (
    MAX_SOURCE_BYTES,
    ConcurrentTriggerChange,
    TriggerVersionNotFound,
)

if TYPE_CHECKING:
    from sms_automation.triggers.loader import Problem
    from sms_automation.triggers.model import TriggerSet

MAX_DIFF_LINES: Final = 2_000
"""Lines of a diff returned; a longer one is cut (the page says so)."""


class TooLarge(Exception):
    """The request is larger than a trigger file may be (413)."""


class VersionInfo(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def trigger_names(self) -> tuple[str, ...]: ...

    @property
    def pushed_at(self) -> str: ...

    @property
    def source_bytes(self) -> int: ...

    @property
    def restored_from(self) -> int | None: ...

    @property
    def pushed_by(self) -> str | None: ...


class StoredVersion(Protocol):
    @property
    def info(self) -> VersionInfo: ...

    @property
    def source(self) -> str: ...


class TriggerVersions(Protocol):
    """An account's stored trigger files (``adapters.trigger_store.DynamoTriggerStore``)."""

    def current(self, account: str) -> StoredVersion | None: ...

    def version(self, account: str, version: int) -> StoredVersion | None: ...

    def list_versions(self, account: str) -> Sequence[VersionInfo]: ...

    def push(
        self,
        account: str,
        source_text: str,
        fingerprint: str,
        pushed_at: datetime,
        *,
        trigger_names: Sequence[str] = (),
        expected_version: int | None = None,
        pushed_by: str | None = None,
    ) -> int: ...

    def rollback(
        self,
        account: str,
        version: int,
        pushed_at: datetime,
        *,
        expected_version: int | None = None,
        pushed_by: str | None = None,
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class TypedMessage:
    """A message typed on the page: its Twilio parameters are built as the CLI's ``--from``
    ``--to`` ``--body`` build them."""

    sender: str
    receiver: str
    body: str


@dataclass(frozen=True, slots=True)
class DryRunRequest:
    text: str | None
    """The edited text; ``None``: the live version."""
    message_sid: str | None
    typed: TypedMessage | None
    replies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConsoleTriggers:
    versions: TriggerVersions
    messages: MessageRecords
    accounts: AccountReader
    app_table: str | None
    """The deployment's own table: a ``record`` into it is a problem of the file."""
    audit: AuditLog
    """Where a push and a rollback are recorded (``trigger.push``, ``trigger.rollback``)."""

    # --- reads (every role) -------------------------------------------------------------------

    def current(self, principal: Principal, account: str) -> dict[str, Any]:
        self._account(principal, account)
        stored = self.versions.current(account)
        if stored is None:
            return {"version": 0, "text": "", "info": None}
        return {
            "version": stored.info.version,
            "text": stored.source,
            "info": info_view(stored.info),
        }

    def history(self, principal: Principal, account: str) -> dict[str, Any]:
        self._account(principal, account)
        items = [info_view(info) for info in self.versions.list_versions(account)]
        return {"items": items, "current": items[0]["version"] if items else 0}

    def version_text(self, principal: Principal, account: str, version: int) -> dict[str, Any]:
        self._account(principal, account)
        stored = self.versions.version(account, version)
        if stored is None:
            raise NotFound(f"account {account!r} has no trigger version {version}")
        return {"version": version, "text": stored.source, "info": info_view(stored.info)}

    def validate(self, principal: Principal, account: str, text: str) -> dict[str, Any]:
        self._account(principal, account)
        parsed, problems = self._parse(text)
        if parsed is None:
            return {"ok": False, "problems": problems, "summary": None, "flow": None}
        from sms_automation.triggers.flow import flow_of

        return {"ok": True, "problems": [], "summary": summary(parsed), "flow": flow_of(parsed)}

    def diff(
        self, principal: Principal, account: str, text: str, expected_version: int
    ) -> dict[str, Any]:
        """The edited text against the live version (what a push would change)."""
        self._account(principal, account)
        check_size(text)
        stored = self.versions.current(account)
        live_version = stored.info.version if stored else 0
        live = stored.source if stored else ""
        return {
            "live_version": live_version,
            "stale": live_version != expected_version,
            **unified_diff(live, text, f"live (version {live_version})", "edited"),
        }

    def dry_run(
        self, principal: Principal, account: str, request: DryRunRequest, now: datetime
    ) -> dict[str, Any]:
        record = self._account(principal, account)
        if request.text is None:
            stored = self.versions.current(account)
            if stored is None:
                raise NotFound(f"account {account!r} has no trigger file yet")
            text = stored.source
        else:
            text = request.text
        parsed, problems = self._parse(text)
        if parsed is None:
            return {"ok": False, "problems": problems}
        message = self._message(account, request)
        from sms_automation.console.trigger_dry_run import dry_run_view

        return {
            "ok": True,
            "problems": [],
            **dry_run_view(parsed, message, request.replies, account, record.timezone, now),
        }

    # --- writes (admin) -----------------------------------------------------------------------

    def push(
        self, principal: Principal, account: str, text: str, expected_version: int, now: datetime
    ) -> dict[str, Any]:
        self._account(principal, account)
        parsed, problems = self._parse(text)
        if parsed is None:
            raise InvalidFile(problems)
        from sms_automation.triggers.publish import publish

        try:
            published = publish(
                self.versions,
                account,
                text,
                now=now,
                trigger_set=parsed,
                expected_version=expected_version,
                pushed_by=principal.email,
            )
        except ConcurrentTriggerChange:
            mine = self._found_done(principal, account, expected_version, restored_from=None)
            if mine is not None and mine.source == text:  # their own push, replayed
                found = push_detail(mine.info, expected_version)
                self._audit(principal, account, "trigger.push", found, found_done=True)
            raise
        pushed = _Pushed(published.version, published.fingerprint, published.trigger_names)
        detail = push_detail(pushed, expected_version)
        self._audit(principal, account, "trigger.push", detail, found_done=False)
        return {
            "version": published.version,
            "previous_version": expected_version,
            "fingerprint": published.fingerprint,
            "trigger_names": list(published.trigger_names),
        }

    def rollback(
        self, principal: Principal, account: str, version: int, expected_version: int, now: datetime
    ) -> dict[str, Any]:
        self._account(principal, account)
        try:
            number = self.versions.rollback(
                account, version, now, expected_version=expected_version, pushed_by=principal.email
            )
        except TriggerVersionNotFound as missing:
            raise NotFound(str(missing)) from None
        except ConcurrentTriggerChange:
            mine = self._found_done(principal, account, expected_version, restored_from=version)
            if mine is not None:  # their own rollback, replayed
                found = rollback_detail(mine.info.version, version, expected_version)
                self._audit(principal, account, "trigger.rollback", found, found_done=True)
            raise
        detail = rollback_detail(number, version, expected_version)
        self._audit(principal, account, "trigger.rollback", detail, found_done=False)
        return detail

    # --- the audit record ---------------------------------------------------------------------

    def _found_done(
        self, principal: Principal, account: str, expected: int, *, restored_from: int | None
    ) -> StoredVersion | None:
        """The version right after ``expected`` when this user made it the same way
        (a push, or a rollback of ``restored_from``): their earlier identical request, whose
        answer they did not get. None when someone else's change (or another) is there."""
        stored = self.versions.version(account, expected + 1)
        if stored is None or stored.info.pushed_by != principal.email:
            return None
        return stored if stored.info.restored_from == restored_from else None

    def _audit(
        self, principal: Principal, account: str, action: str, detail: dict[str, Any], *,
        found_done: bool,
    ) -> None:  # fmt: skip
        """Once per version (``detail["version"]``): the change, or its replay found done."""
        version = detail["version"]
        self.audit.record(
            actor=principal.email,
            action=action,
            account=account,
            target=f"triggers version {version}",
            detail=detail | ({"found_done": True} if found_done else {}),
            once=f"version {version}",  # a version is made once: audited once
        )

    # --- helpers ------------------------------------------------------------------------------

    def _account(self, principal: Principal, account: str) -> Any:
        principal.require_account(account)
        record = self.accounts.get(account)
        if record is None:
            raise NotFound(f"no account named {account!r}")
        return record

    def _parse(self, text: str) -> tuple[TriggerSet | None, list[dict[str, Any]]]:
        check_size(text)
        from sms_automation.triggers.loader import TriggerFileError, parse_trigger_text

        try:
            return parse_trigger_text(text, filename="triggers", app_table=self.app_table), []
        except TriggerFileError as error:
            return None, [problem_view(problem) for problem in error.problems]

    def _message(self, account: str, request: DryRunRequest) -> dict[str, Any]:
        if request.typed is not None:
            from sms_automation.conversations.dry_run_report import described_message

            typed = request.typed
            return described_message(typed.sender, typed.receiver, typed.body)
        item = self.messages.get(request.message_sid or "")
        if item is None or item.get("account") != account:
            raise NotFound(f"account {account!r} has no message {request.message_sid!r}")
        return dict(item.get("params") or {})


@dataclass(frozen=True, slots=True)
class _Pushed:
    """What the audit entry of a push says of its version."""

    version: int
    fingerprint: str
    trigger_names: tuple[str, ...]


class InvalidFile(Exception):
    """The text is not a valid trigger file (400, with every problem)."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(f"the trigger file has {len(problems)} problem(s); nothing was pushed")
        self.problems = problems


def push_detail(info: _Pushed | VersionInfo, previous_version: int) -> dict[str, Any]:
    return {
        "version": info.version,
        "previous_version": previous_version,
        "fingerprint": info.fingerprint,
        "triggers": len(info.trigger_names),
    }


def rollback_detail(version: int, restored_from: int, previous: int) -> dict[str, Any]:
    return {"version": version, "restored_from": restored_from, "previous_version": previous}


def check_size(text: str) -> None:
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_SOURCE_BYTES:
        raise TooLarge(f"the trigger file is {size} bytes; at most {MAX_SOURCE_BYTES}")


def problem_view(problem: Problem) -> dict[str, Any]:
    return {"line": problem.line, "column": problem.column, "message": problem.message}


def info_view(info: VersionInfo) -> dict[str, Any]:
    return {
        "version": info.version,
        "pushed_at": info.pushed_at,
        "pushed_by": info.pushed_by,
        "fingerprint": info.fingerprint,
        "trigger_names": list(info.trigger_names),
        "source_bytes": info.source_bytes,
        "restored_from": info.restored_from,
    }


def summary(parsed: TriggerSet) -> dict[str, Any]:
    return {
        "triggers": len(parsed.triggers),
        "enabled": sum(1 for trigger in parsed.triggers if trigger.enabled),
        "automations": len(parsed.automations),
        "schedules": sum(len(automation.schedules) for automation in parsed.automations),
    }


def unified_diff(before: str, after: str, before_name: str, after_name: str) -> dict[str, Any]:
    lines = list(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), before_name, after_name, lineterm=""
        )
    )
    return {
        "changed": bool(lines),
        "diff": lines[:MAX_DIFF_LINES],
        "truncated": len(lines) > MAX_DIFF_LINES,
    }
