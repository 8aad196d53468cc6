"""A message's evaluation: which trigger-set version it was evaluated with, and the result.

An automation run is evaluated exactly like a message (its origin item stands for the message),
so it has an evaluation too; "run" alone always means an automation run.

The version is pinned on the first attempt, so a redelivery replays the *same* triggers even
when a new version was pushed meanwhile: the replay then meets the same steps, already recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sms_automation import keys

# conversation_reply: an answer to a conversation, consumed by it (the triggers never saw it).
# own_number: from one of the account's own numbers; the loop guard ran nothing.
# opted_out / opted_in / help: an opt-out, opt-in or HELP keyword that ran nothing (``opt_out``).
FINISHED_STATUSES = frozenset(
    {
        "completed",
        "stopped",
        "no_triggers",
        "conversation_reply",
        "own_number",
        "opted_out",
        "opted_in",
        "help",
    }
)


def is_automation_run(message: Mapping[str, Any]) -> bool:
    """An automation run's origin rather than an inbound message (see ``keys``)."""
    return message.get("kind") == keys.KIND_AUTOMATION_RUN


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """The attribute names are the stored item's (``adapters.evaluation_store``): kept as they
    are so existing tables still read."""

    message_sid: str
    account: str
    status: str  # running, paused, or one of FINISHED_STATUSES
    trigger_version: int = 0
    fingerprint: str = ""
    started_at: str = ""
    finished_at: str = ""
    attempts: int = 1
    matched: tuple[str, ...] = ()
    diagnostics: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    paused_at: str = ""
    timezone: str = ""
    """The account's time zone when the evaluation started ("" = UTC), pinned like the trigger
    version: every attempt and replay evaluates in it, whatever the account says later."""

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES
