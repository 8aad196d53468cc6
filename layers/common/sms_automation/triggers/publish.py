"""Publishing a trigger file to an account: validated first (an invalid file is never stored),
then stored as a new version with its fingerprint and trigger names. What only the account
decides is checked here: a schedule's broadcast file must be under the account's own uploads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sms_automation import broadcast_uploads as uploads
from sms_automation.triggers.engine import compile_triggers
from sms_automation.triggers.loader import Problem, TriggerFileError, parse_trigger_text
from sms_automation.triggers.model import TriggerSet


class TriggerFiles(Protocol):
    """An account's trigger files, one version after another."""

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
    ) -> int:
        """Store ``source_text`` as the account's next version and make it current: its number.
        ``expected_version``: refuse (nothing stored) unless that version is current (0: none
        yet); ``pushed_by``: who, kept with the version."""
        ...


@dataclass(frozen=True, slots=True)
class Published:
    version: int
    fingerprint: str
    trigger_names: tuple[str, ...]


def publish(
    store: TriggerFiles,
    account: str,
    source: str,
    *,
    now: datetime,
    filename: str = "<triggers>",
    trigger_set: TriggerSet | None = None,
    expected_version: int | None = None,
    pushed_by: str | None = None,
) -> Published:
    """Raises ``TriggerFileError`` (nothing stored) or the store's errors. ``trigger_set``: the
    source already parsed (the CLI parses before it looks the account up). The CLI's
    ``triggers push`` and the console's push both come here."""
    trigger_set = trigger_set or parse_trigger_text(source, filename=filename)
    problems = other_accounts_files(trigger_set, account, source, filename)
    if problems:
        raise TriggerFileError(problems)
    fingerprint = compile_triggers(trigger_set).fingerprint
    names = tuple(trigger.name for trigger in trigger_set.triggers)
    version = store.push(
        account,
        source,
        fingerprint,
        now,
        trigger_names=names,
        expected_version=expected_version,
        pushed_by=pushed_by,
    )
    return Published(version, fingerprint, names)


def other_accounts_files(
    trigger_set: TriggerSet, account: str, source: str, filename: str
) -> list[Problem]:
    """A schedule's broadcast file under another account's prefix: its contacts are not this
    account's (the start would refuse it each time the schedule fires)."""
    problems = []
    for automation in trigger_set.automations:
        for position, schedule in enumerate(automation.schedules, start=1):
            key = schedule.broadcast
            problem = None if key is None else uploads.account_problem(key, account)
            if key is not None and problem is not None:
                line = source[: max(source.find(key), 0)].count("\n") + 1
                where = f"automation {automation.name!r}, schedule {position}: broadcast"
                problems.append(Problem(filename, line, f"{where}: {problem}"))
    return problems
