"""Starting automations from EventBridge: an event on a bus, or an EventBridge Scheduler schedule.

Both reach the automation-events function asynchronously. Pure: the invocation in, a
``StartRequest`` (or a ``ScheduledStart`` to resolve against the current trigger file) out, or
``StartRejected`` naming every problem.

The event (``detail-type`` ``SMS automation start``, ``source`` ``sms-automation``) on the
stack's own bus (``AutomationsEventBus`` in template.yaml, whose rule and resource policy accept
only this source and detail-type)::

    {"detail-type": "SMS automation start", "source": "sms-automation", "id": "...",
     "detail": {"account": "acme", "automation": "appointment-reminder", "to": "+14155550101",
                "from": "+15005550006", "variables": {"patient": "Ann"},
                "idempotency_key": "booking-42"}}

``from``, ``variables`` and ``idempotency_key`` are optional; without a key the event's ``id``
is the key, so EventBridge's own redelivery of the same event starts one run.

A schedule passes ``schedules.DesiredSchedule.input_json``: account, automation, position and
the scheduled time; the key is ``schedule:{schedule name}:{scheduled time}``. A schedule that
names a ``broadcast`` file asks for a ``ScheduledBroadcast`` instead of one contact's run: the
same key makes it one broadcast, however often the firing is delivered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sms_automation.automations.schedules import SCHEDULE_KIND, find_schedule
from sms_automation.automations.start import (
    Problem,
    RejectionReason,
    StartRejected,
    StartRequest,
    StartSource,
    invalid_field,
)

if TYPE_CHECKING:
    from sms_automation.triggers.model import TriggerSet

DETAIL_TYPE: Final = "SMS automation start"
SOURCE: Final = "sms-automation"  # the template's rule and bus policy name it too
_DETAIL_FIELDS: Final = frozenset(
    {"account", "automation", "to", "from", "variables", "idempotency_key"}
)
_MAX_TEXT: Final = 255


@dataclass(frozen=True, slots=True)
class ScheduledStart:
    """A schedule fired: which automation's which schedule, and when it was due."""

    account: str
    automation: str
    position: int
    schedule_name: str
    scheduled_time: str

    @property
    def idempotency_key(self) -> str:
        return f"schedule:{self.schedule_name}:{self.scheduled_time}"


@dataclass(frozen=True, slots=True)
class ScheduledBroadcast:
    """A schedule fired that starts a broadcast of ``file_key`` (``Broadcasts.create``)."""

    account: str
    automation: str
    file_key: str
    idempotency_key: str
    requested_by: str


def is_scheduled(event: Mapping[str, Any]) -> bool:
    return event.get("kind") == SCHEDULE_KIND


def request_from_event(event: Mapping[str, Any]) -> StartRequest:
    """The start request an ``SMS automation start`` event carries."""
    if event.get("detail-type") != DETAIL_TYPE:
        raise invalid_field("detail-type", f"expected {DETAIL_TYPE!r}")
    if event.get("source") != SOURCE:
        raise invalid_field("source", f"expected {SOURCE!r}")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise invalid_field("detail", "must be an object")
    problems = [
        Problem(f"detail.{name}", "not a field of the event (see docs/automations-reference.md)")
        for name in sorted(set(detail) - _DETAIL_FIELDS)
    ]
    account = _text(detail.get("account"), "detail.account", problems)
    automation = _text(detail.get("automation"), "detail.automation", problems)
    key = detail.get("idempotency_key")
    if key is None:
        key = f"event:{event.get('id', '')}" if event.get("id") else None
    variables = detail.get("variables")
    _reject_if(problems, "the event is not a valid start")
    return StartRequest(
        account=account,
        automation=automation,
        to=detail.get("to"),
        variables={} if variables is None else variables,
        from_=detail.get("from"),
        idempotency_key=key,
        source=StartSource.EVENT,
        requested_by=f"events:{SOURCE}",
    )


def scheduled_start(event: Mapping[str, Any]) -> ScheduledStart:
    """Where a schedule's invocation says to look (its own input, as the sync wrote it)."""
    problems: list[Problem] = []
    account = _text(event.get("account"), "account", problems)
    automation = _text(event.get("automation"), "automation", problems)
    name = _text(event.get("schedule_name"), "schedule_name", problems)
    when = _text(event.get("scheduled_time"), "scheduled_time", problems)
    position = event.get("schedule")
    if not isinstance(position, int) or isinstance(position, bool) or position < 1:
        problems.append(Problem("schedule", "the schedule's position, a number from 1"))
    _reject_if(problems, "the schedule's input is not valid")
    assert isinstance(position, int)
    return ScheduledStart(account, automation, position, name, when)


def request_from_schedule(
    scheduled: ScheduledStart, current: TriggerSet | None
) -> StartRequest | ScheduledBroadcast:
    """The start request of a schedule that fired, with what the *current* file says of it: a
    run for its contact, or a broadcast of its file."""
    found = find_schedule(current, scheduled.automation, scheduled.position)
    if found is None:
        raise StartRejected(
            RejectionReason.AUTOMATION_NOT_FOUND,
            f"the current trigger file of {scheduled.account!r} has no schedule "
            f"{scheduled.position} in automation {scheduled.automation[:80]!r} "
            "(removed since; the schedule sync deletes it)",
        )
    automation, schedule = found
    if not schedule.enabled:
        raise StartRejected(
            RejectionReason.AUTOMATION_DISABLED,
            f"schedule {scheduled.position} of {automation.name!r} is disabled",
        )
    if schedule.broadcast is not None:
        return ScheduledBroadcast(
            account=scheduled.account,
            automation=automation.name,
            file_key=schedule.broadcast,
            idempotency_key=scheduled.idempotency_key,
            requested_by=f"schedule:{scheduled.schedule_name}",
        )
    return StartRequest(
        account=scheduled.account,
        automation=automation.name,
        to=schedule.to,
        variables=dict(schedule.variables),
        from_=schedule.from_,
        idempotency_key=scheduled.idempotency_key,
        source=StartSource.SCHEDULE,
        requested_by=f"schedule:{scheduled.schedule_name}",
    )


def _text(value: Any, name: str, problems: list[Problem]) -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_TEXT:
        problems.append(Problem(name, f"required: text of 1-{_MAX_TEXT} characters"))
        return ""
    return value


def _reject_if(problems: list[Problem], what: str) -> None:
    if problems:
        raise StartRejected(
            RejectionReason.INVALID_REQUEST,
            f"{what}: " + "; ".join(p.field for p in problems),
            tuple(problems),
        )
