"""The ``automations:`` key of a trigger file: what validates, and how each mistake is named."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from sms_automation.triggers import TriggerFileError, parse_trigger_text
from sms_automation.triggers.model import TriggerSet

OUR_NUMBER = "+15005550006"


def automation(**fields: Any) -> dict[str, Any]:
    return {
        "name": "reminder",
        "from": OUR_NUMBER,
        "inputs": [{"name": "patient", "required": True}],
        "actions": [{"type": "send_sms", "body": "Hi %patient%"}],
        **fields,
    }


def parse(*automations: dict[str, Any]) -> TriggerSet:
    return parse_trigger_text(yaml.safe_dump({"version": 1, "automations": list(automations)}))


def problems(*automations: dict[str, Any]) -> str:
    with pytest.raises(TriggerFileError) as error:
        parse(*automations)
    return str(error.value)


def test_a_full_automation_validates_and_is_found_by_name_in_any_case() -> None:
    parsed = parse(
        automation(
            description="Remind and confirm",
            inputs=[
                {"name": "patient", "required": True},
                {"name": "clinic", "default": "Main St"},
                {"name": "slot", "type": "datetime", "required": True},
            ],
            schedules=[
                {
                    "expression": "cron(0 8 * * ? *)",
                    "timezone": "Europe/London",
                    "to": "+447700900123",
                    "variables": {"patient": "Ann", "slot": "2026-12-01T10:00:00Z"},
                }
            ],
        )
    )
    found = parsed.automation("REMINDER")
    assert found is not None
    assert found.input("Clinic") is not None
    assert found.input("Clinic").default == "Main St"  # type: ignore[union-attr]
    assert parsed.automation("other") is None


def test_a_file_may_hold_triggers_and_automations_with_the_same_name() -> None:
    parsed = parse_trigger_text(
        yaml.safe_dump(
            {
                "version": 1,
                "triggers": [{"name": "reminder", "actions": [{"type": "stop"}]}],
                "automations": [automation()],
            }
        )
    )
    assert [t.name for t in parsed.triggers] == [a.name for a in parsed.automations]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"actions": []}, "at least 1 item"),
        ({"from": "5005550006"}, "should match pattern"),
        ({"inputs": [{"name": "From"}]}, "built-in variable"),
        ({"inputs": [{"name": "now"}]}, "built-in variable"),
        ({"inputs": [{"name": "a"}, {"name": "A"}]}, "two inputs are named"),
        ({"inputs": [{"name": "a", "required": True, "default": "x"}]}, "never used"),
        ({"inputs": [{"name": "n", "type": "integer", "default": "ten"}]}, "whole number"),
        ({"inputs": [{"name": "n", "type": "colour"}]}, "'text', 'number'"),
        (
            {"actions": [{"type": "stop", "id": "x"}, {"type": "stop", "id": "x"}]},
            "two actions have the id 'x'",
        ),
        (
            {"schedules": [{"expression": "every day", "to": "+447700900123"}]},
            "not an EventBridge Scheduler expression",
        ),
        (
            {"schedules": [{"expression": "rate(1 day)", "to": "+447700900123"}]},
            "does not set the required 'patient'",
        ),
        (
            {
                "schedules": [
                    {
                        "expression": "rate(1 day)",
                        "to": "+447700900123",
                        "variables": {"patient": "Ann", "colour": "red"},
                    }
                ]
            },
            "'colour', which is not an input",
        ),
        (
            {
                "inputs": [{"name": "n", "type": "integer", "required": True}],
                "schedules": [
                    {"expression": "rate(1 day)", "to": "+447700900123", "variables": {"n": "ten"}}
                ],
            },
            "schedule 1, 'n': expected a whole number",
        ),
        (
            {
                "from": None,
                "schedules": [
                    {
                        "expression": "rate(1 day)",
                        "to": "+447700900123",
                        "variables": {"patient": "Ann"},
                    }
                ],
            },
            "has no 'from'",
        ),
        (
            {
                "schedules": [
                    {
                        "expression": "cron(0 8 * * ? *)",
                        "timezone": "Mars/Olympus",
                        "to": "+447700900123",
                        "variables": {"patient": "Ann"},
                    }
                ]
            },
            "unknown time zone",
        ),
    ],
)
def test_mistakes_are_named(change: dict[str, Any], says: str) -> None:
    fields = automation(**change)
    if fields.get("from") is None:
        fields.pop("from")
    assert says in problems(fields)


def test_automation_names_are_unique_ignoring_case() -> None:
    assert "automations 1 and 2 are both named 'Reminder'" in problems(
        automation(), automation(name="Reminder")
    )


def test_a_problem_points_at_its_line() -> None:
    text = """version: 1
automations:
  - name: reminder
    from: "+15005550006"
    inputs:
      - {name: time, type: datetime}
    actions:
      - {type: send_sms, body: hi}
"""
    with pytest.raises(TriggerFileError) as error:
        parse_trigger_text(text, filename="t.yaml")
    assert str(error.value).startswith("t.yaml:6: automations[1].inputs[1].name:")


@pytest.mark.parametrize(
    "expression",
    ["rate(5 minutes)", "rate(1 hour)", "cron(0 8 ? * MON-FRI *)", "at(2026-12-24T09:00:00)"],
)
def test_scheduler_expressions(expression: str) -> None:
    parse(
        automation(
            schedules=[
                {"expression": expression, "to": "+447700900123", "variables": {"patient": "A"}}
            ]
        )
    )


def test_a_schedule_may_broadcast_a_file_instead_of_one_contact() -> None:
    """No 'from' or required input is asked of it: every row brings its own (checked when the
    broadcast validates its file)."""
    parsed = parse(
        automation(
            schedules=[{"expression": "cron(0 8 * * ? *)", "broadcast": "uploads/acme/d.csv"}]
        ),
        automation(
            name="no number",
            schedules=[{"expression": "rate(1 day)", "broadcast": "uploads/acme/list.jsonl"}],
        )
        | {"from": None},
    )
    schedule = parsed.automations[0].schedules[0]
    assert (schedule.broadcast, schedule.to) == ("uploads/acme/d.csv", None)
    assert schedule.audience == "every row of uploads/acme/d.csv"


@pytest.mark.parametrize(
    ("schedule", "says"),
    [
        (
            {"to": "+447700900123", "broadcast": "uploads/acme/d.csv"},
            "exactly one of 'to' (one contact) and 'broadcast'",
        ),
        ({}, "exactly one of 'to' (one contact) and 'broadcast'"),
        (
            {"broadcast": "uploads/acme/d.csv", "variables": {"patient": "Ann"}},
            "remove 'from' and 'variables'",
        ),
        ({"broadcast": "uploads/acme/d.csv", "from": OUR_NUMBER}, "remove 'from' and 'variables'"),
        ({"broadcast": "uploads/acme/../globex/d.csv"}, "not a broadcast file"),
        ({"broadcast": "uploads/acme/d.xlsx"}, "a .csv or .jsonl"),
        ({"broadcast": "rows/BC1.json"}, "should match pattern"),
        ({"broadcast": "uploads/acme/a b.csv"}, "should match pattern"),
    ],
)
def test_a_broadcast_schedules_mistakes_are_named(schedule: dict[str, Any], says: str) -> None:
    assert says in problems(automation(schedules=[{"expression": "rate(1 day)", **schedule}]))
