"""EventBridge events and scheduler invocations → start requests, or every problem named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sms_automation.automations import events
from sms_automation.automations.schedules import desired_schedules
from sms_automation.automations.start import RejectionReason, StartRejected, StartSource
from sms_automation.triggers.model import TriggerSet

OURS, CONTACT = "+15005550006", "+14155550101"


def bus_event(**detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": events.DETAIL_TYPE,
        "source": events.SOURCE,
        "account": "123456789012",
        "time": "2026-01-01T08:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"account": "acme", "automation": "reminder", "to": CONTACT, **detail},
    }


FILE = TriggerSet.model_validate(
    {
        "version": 1,
        "automations": [
            {
                "name": "Daily summary",
                "from": OURS,
                "inputs": [{"name": "team", "required": True}],
                "actions": [{"type": "send_sms", "body": "%team%"}],
                "schedules": [
                    {"expression": "rate(1 day)", "to": CONTACT, "variables": {"team": "A"}},
                    {
                        "expression": "rate(2 days)",
                        "to": CONTACT,
                        "variables": {"team": "B"},
                        "enabled": False,
                    },
                ],
            }
        ],
    }
)


def test_event_detail_becomes_the_request() -> None:
    request = events.request_from_event(
        bus_event(variables={"patient": "Ann"}, **{"from": OURS}, idempotency_key="b-42")
    )
    assert request.account == "acme"
    assert request.automation == "reminder"
    assert request.to == CONTACT
    assert request.from_ == OURS
    assert request.variables == {"patient": "Ann"}
    assert request.idempotency_key == "b-42"
    assert request.source is StartSource.EVENT
    assert request.requested_by == "events:sms-automation"


def test_event_without_a_key_uses_the_event_id() -> None:
    request = events.request_from_event(bus_event())
    assert request.idempotency_key == "event:6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    assert request.variables == {}


def test_event_names_every_problem() -> None:
    event = bus_event(colour="red")
    del event["detail"]["account"]
    event["detail"]["automation"] = 5
    with pytest.raises(StartRejected) as rejected:
        events.request_from_event(event)
    assert rejected.value.reason is RejectionReason.INVALID_REQUEST
    assert [p.field for p in rejected.value.problems] == [
        "detail.colour",
        "detail.account",
        "detail.automation",
    ]


@pytest.mark.parametrize(
    "event",
    [
        {**bus_event(), "detail-type": "Something else"},
        {**bus_event(), "source": "com.example.booking"},
        {**bus_event(), "source": "aws.events"},
        {**bus_event(), "detail": "text"},
        {"detail-type": events.DETAIL_TYPE},
    ],
)
def test_event_that_is_not_a_start_is_rejected(event: dict[str, Any]) -> None:
    with pytest.raises(StartRejected):
        events.request_from_event(event)


def scheduler_input(position: int = 1, when: str = "2026-01-01T08:00:00Z") -> dict[str, Any]:
    desired = desired_schedules("acme", FILE)[position - 1]

    text = desired.input_json().replace("<aws.scheduler.scheduled-time>", when)
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def test_scheduler_input_is_recognised() -> None:
    assert events.is_scheduled(scheduler_input())
    assert not events.is_scheduled(bus_event())


def test_schedule_reads_contact_and_variables_from_the_current_file() -> None:
    scheduled = events.scheduled_start(scheduler_input())
    request = events.request_from_schedule(scheduled, FILE)
    assert request.automation == "Daily summary"
    assert request.to == CONTACT
    assert request.from_ is None  # the automation's own number applies
    assert request.variables == {"team": "A"}
    assert request.source is StartSource.SCHEDULE
    assert request.idempotency_key == (f"schedule:{scheduled.schedule_name}:2026-01-01T08:00:00Z")
    assert " " not in request.idempotency_key


def test_schedule_each_time_is_its_own_key() -> None:
    first = events.scheduled_start(scheduler_input(when="2026-01-01T08:00:00Z"))
    second = events.scheduled_start(scheduler_input(when="2026-01-02T08:00:00Z"))
    assert first.idempotency_key != second.idempotency_key


def test_schedule_removed_from_the_file_is_not_found() -> None:
    scheduled = events.scheduled_start({**scheduler_input(), "schedule": 3})
    with pytest.raises(StartRejected) as rejected:
        events.request_from_schedule(scheduled, FILE)
    assert rejected.value.reason is RejectionReason.AUTOMATION_NOT_FOUND
    with pytest.raises(StartRejected):
        events.request_from_schedule(events.scheduled_start(scheduler_input()), None)


def test_schedule_disabled_in_the_file_is_rejected() -> None:
    scheduled = events.scheduled_start(scheduler_input(position=2))
    with pytest.raises(StartRejected) as rejected:
        events.request_from_schedule(scheduled, FILE)
    assert rejected.value.reason is RejectionReason.AUTOMATION_DISABLED


def test_schedule_input_with_problems_names_them() -> None:
    with pytest.raises(StartRejected) as rejected:
        events.scheduled_start({"kind": "automation_schedule", "schedule": True})
    assert [p.field for p in rejected.value.problems] == [
        "account",
        "automation",
        "schedule_name",
        "scheduled_time",
        "schedule",
    ]


def test_a_broadcast_schedule_asks_for_a_broadcast_of_its_file_keyed_by_its_firing() -> None:
    current = TriggerSet.model_validate(
        {
            "version": 1,
            "automations": [
                {
                    "name": "Daily summary",
                    "actions": [{"type": "send_sms", "body": "%team%"}],
                    "schedules": [
                        {"expression": "rate(1 day)", "broadcast": "uploads/acme/team.csv"}
                    ],
                }
            ],
        }
    )
    (desired,) = desired_schedules("acme", current)  # synced as any schedule
    fired = json.loads(desired.input_json().replace("<aws.scheduler.scheduled-time>", "T1"))
    scheduled = events.scheduled_start(fired)
    asked = events.request_from_schedule(scheduled, current)
    assert asked == events.ScheduledBroadcast(
        account="acme",
        automation="Daily summary",
        file_key="uploads/acme/team.csv",
        idempotency_key=f"schedule:{desired.name}:T1",
        requested_by=f"schedule:{desired.name}",
    )
