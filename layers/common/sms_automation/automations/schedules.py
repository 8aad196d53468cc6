"""An account's schedules on EventBridge Scheduler, derived from its current trigger file.

Pure: the trigger file in, the schedules it wants out (``desired_schedules``); those and the
ones that exist in, what to create, update and delete out (``plan_sync``). The adapter
(``adapters.scheduler``) lists and applies; the sync function runs it on every change of an
account's trigger pointer or account item. A schedule that names no ``timezone`` runs in the
account's time zone (UTC when the account has none).

A schedule's name is ``{account}.{automation slug}.{hash}.{n}``: the account (or, past
``ACCOUNT_PART_MAX`` characters, its head and a hash), a slug of the automation's name, eight
hex digits of the name's hash (names differing only in what the slug drops stay apart), and the
schedule's position (1-based) in the automation. At most 64 characters of ``[0-9a-zA-Z-_.]``;
account names have no ``.`` or ``_``, so ``{account part}.`` names exactly one account's
schedules. What a schedule passes the automation-events function is only where to look
(account, automation, position, its scheduled time): the contact, number and variables are read
from the trigger file when it fires, so the file stays the single source of truth.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from sms_automation.triggers.model import Automation, Schedule, TriggerSet


MAX_NAME_LENGTH: Final = 64
ACCOUNT_PART_MAX: Final = 26
HASH_LENGTH: Final = 8
SCHEDULE_KIND: Final = "automation_schedule"
"""``kind`` of the JSON a schedule passes the automation-events function."""
SCHEDULED_TIME: Final = "<aws.scheduler.scheduled-time>"
"""EventBridge Scheduler replaces this with the invocation's scheduled time (ISO 8601, UTC)."""
ENABLED: Final = "ENABLED"
DISABLED: Final = "DISABLED"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
NAME_PATTERN: Final = re.compile(r"^[0-9a-zA-Z\-_.]{1,64}$")


def _digest(text: str, length: int = HASH_LENGTH) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def account_part(account: str) -> str:
    """The account as it starts its schedules' names (short names verbatim)."""
    if len(account) <= ACCOUNT_PART_MAX:
        return account
    head = ACCOUNT_PART_MAX - HASH_LENGTH - 1
    return f"{account[:head]}_{_digest(account)}"


def name_prefix(account: str) -> str:
    """Every schedule of ``account``, and no other account's, starts with this."""
    return f"{account_part(account)}."


def schedule_name(account: str, automation: str, position: int) -> str:
    prefix = name_prefix(account)
    suffix = f".{_digest(automation.casefold())}.{position}"
    room = MAX_NAME_LENGTH - len(prefix) - len(suffix)
    slug = _NOT_SLUG.sub("-", automation.casefold()).strip("-")[:room].strip("-") or "automation"
    return f"{prefix}{slug}{suffix}"


@dataclass(frozen=True, slots=True)
class DesiredSchedule:
    name: str
    account: str
    automation: str
    position: int
    expression: str
    timezone: str
    state: str

    def input_json(self) -> str:
        """The target's input: where to look, and the time of this invocation."""
        return json.dumps(
            {
                "kind": SCHEDULE_KIND,
                "account": self.account,
                "automation": self.automation,
                "schedule": self.position,
                "schedule_name": self.name,
                "scheduled_time": SCHEDULED_TIME,
            },
            sort_keys=True,
            separators=(",", ":"),
        )


def desired_schedules(
    account: str, trigger_set: TriggerSet | None, account_zone: str | None = None
) -> list[DesiredSchedule]:
    """One schedule per ``schedules`` entry of every automation; disabled ones (or of a
    disabled automation) are kept, with state DISABLED, so they are seen and not forgotten.
    A schedule that names no ``timezone`` is in the account's (``account_zone``), else UTC."""
    if trigger_set is None:
        return []
    desired = []
    for automation in trigger_set.automations:
        for position, schedule in enumerate(automation.schedules, start=1):
            desired.append(
                DesiredSchedule(
                    name=schedule_name(account, automation.name, position),
                    account=account,
                    automation=automation.name,
                    position=position,
                    expression=schedule.expression,
                    timezone=schedule.timezone or account_zone or "UTC",
                    state=ENABLED if automation.enabled and schedule.enabled else DISABLED,
                )
            )
    return desired


def find_schedule(
    trigger_set: TriggerSet | None, automation: str, position: int
) -> tuple[Automation, Schedule] | None:
    """The automation and its schedule at ``position`` (1-based) in the current file."""
    found = trigger_set.automation(automation) if trigger_set is not None else None
    if found is None or not 1 <= position <= len(found.schedules):
        return None
    return found, found.schedules[position - 1]


@dataclass(frozen=True, slots=True)
class ExistingSchedule:
    """A schedule as EventBridge Scheduler has it (only what the sync compares)."""

    name: str
    expression: str
    timezone: str
    state: str
    input: str
    target_arn: str


@dataclass(frozen=True, slots=True)
class SyncPlan:
    create: tuple[DesiredSchedule, ...] = ()
    update: tuple[DesiredSchedule, ...] = ()
    delete: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = field(default=())

    @property
    def changes(self) -> int:
        return len(self.create) + len(self.update) + len(self.delete)

    def summary(self) -> dict[str, Any]:
        return {
            "schedules_created": [s.name for s in self.create],
            "schedules_updated": [s.name for s in self.update],
            "schedules_deleted": list(self.delete),
            "schedules_unchanged": len(self.unchanged),
        }


def plan_sync(
    desired: Sequence[DesiredSchedule], existing: Iterable[ExistingSchedule], target_arn: str
) -> SyncPlan:
    """What turns ``existing`` (one account's) into ``desired``."""
    have = {schedule.name: schedule for schedule in existing}
    want = {schedule.name: schedule for schedule in desired}
    create, update, unchanged = [], [], []
    for name, schedule in want.items():
        current = have.get(name)
        if current is None:
            create.append(schedule)
        elif _same(schedule, current, target_arn):
            unchanged.append(name)
        else:
            update.append(schedule)
    delete = tuple(sorted(name for name in have if name not in want))
    return SyncPlan(tuple(create), tuple(update), delete, tuple(unchanged))


def _same(desired: DesiredSchedule, existing: ExistingSchedule, target_arn: str) -> bool:
    try:
        existing_input = json.loads(existing.input or "null")
    except json.JSONDecodeError:
        existing_input = None
    return (
        desired.expression == existing.expression
        and desired.timezone == (existing.timezone or "UTC")
        and desired.state == existing.state
        and json.loads(desired.input_json()) == existing_input
        and existing.target_arn == target_arn
    )


class Schedules(Protocol):
    """An account's schedules where they run (adapter: ``adapters.scheduler``)."""

    def existing(self, account: str) -> list[ExistingSchedule]: ...

    def apply(self, plan: SyncPlan) -> None: ...


@dataclass(frozen=True, slots=True)
class Synced:
    desired: int
    plan: SyncPlan


def sync_account(
    account: str,
    *,
    removed: bool,
    current_triggers: Callable[[str], TriggerSet | None],
    account_zone: Callable[[str], str | None],
    schedules: Schedules,
    target_arn: str,
) -> Synced:
    """The account's schedules made what its *current* trigger file and account say (read
    again, so a late or repeated change still converges); none once its pointer is removed.
    The account's zone is the zone of every schedule that names none."""
    current = None if removed else current_triggers(account)
    zone = account_zone(account) if current is not None else None
    desired = desired_schedules(account, current, zone)
    plan = plan_sync(desired, schedules.existing(account), target_arn)
    schedules.apply(plan)
    return Synced(len(desired), plan)
