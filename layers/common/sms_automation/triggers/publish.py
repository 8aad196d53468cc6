"""Publishing a trigger file to an account: validated first (an invalid file is never stored),
then stored as a new version with its fingerprint and trigger names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sms_automation.triggers.engine import compile_triggers
from sms_automation.triggers.loader import parse_trigger_text
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
