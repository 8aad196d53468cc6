"""Schedules from a trigger file: names (unique, at most 64 safe characters, one account's
prefix), states, and the create/update/delete plan against what exists."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from sms_automation.automations import schedules
from sms_automation.automations.schedules import ExistingSchedule, desired_schedules, plan_sync
from sms_automation.triggers.model import TriggerSet

OURS = "+15005550006"
TARGET = "arn:aws:lambda:us-east-1:123456789012:function:stack-automation-events"


def trigger_set(*automations: dict[str, object]) -> TriggerSet:
    return TriggerSet.model_validate({"version": 1, "automations": list(automations)})


def automation(name: str, *expressions: str, **extra: object) -> dict[str, object]:
    return {
        "name": name,
        "from": OURS,
        "actions": [{"type": "send_sms", "body": "hi"}],
        "schedules": [{"expression": e, "to": "+14155550101"} for e in expressions],
        **extra,
    }


def existing(desired: schedules.DesiredSchedule, **changes: str) -> ExistingSchedule:
    current = ExistingSchedule(
        name=desired.name,
        expression=desired.expression,
        timezone=desired.timezone,
        state=desired.state,
        input=desired.input_json(),
        target_arn=TARGET,
    )
    return replace(current, **changes)


def test_schedule_name_reads_account_automation_hash_position() -> None:
    name = schedules.schedule_name("acme", "Daily summary", 1)
    assert name.startswith("acme.daily-summary.")
    assert name.endswith(".1")
    assert schedules.NAME_PATTERN.fullmatch(name)


@pytest.mark.parametrize(
    ("account", "automation"),
    [
        ("a" * 63, "x" * 80),
        ("a", "Z" * 80),
        ("acme", "!!!"),
        ("b" * 63, "Daily summary: 08:00 / weekdays"),
    ],
)
def test_schedule_name_fits_the_scheduler_limits(account: str, automation: str) -> None:
    for position in (1, 10):
        name = schedules.schedule_name(account, automation, position)
        assert len(name) <= schedules.MAX_NAME_LENGTH
        assert schedules.NAME_PATTERN.fullmatch(name), name
        assert name.startswith(schedules.name_prefix(account))


def test_schedule_names_differ_where_their_slugs_agree() -> None:
    long = "x" * 70
    assert schedules.schedule_name("acme", long + "a", 1) != schedules.schedule_name(
        "acme", long + "b", 1
    )
    assert schedules.schedule_name("acme", "a b", 1) != schedules.schedule_name("acme", "a-b", 1)


def test_schedule_name_ignores_the_case_of_the_automation_name() -> None:
    assert schedules.schedule_name("acme", "Daily", 2) == schedules.schedule_name(
        "acme", "DAILY", 2
    )


def test_name_prefix_separates_accounts_that_start_alike() -> None:
    name = schedules.schedule_name("acme-2", "daily", 1)
    assert not name.startswith(schedules.name_prefix("acme"))
    long_a, long_b = "a" * 40 + "x", "a" * 40 + "y"
    assert schedules.name_prefix(long_a) != schedules.name_prefix(long_b)
    assert not schedules.name_prefix(long_a).startswith(schedules.name_prefix("a" * 18))


def test_desired_schedules_one_per_schedule_with_its_state() -> None:
    file = trigger_set(
        automation("daily", "rate(1 day)", "cron(0 8 * * ? *)"),
        automation("off", "rate(1 hour)", enabled=False),
    )
    file_with_disabled_schedule = trigger_set(
        {
            **automation("weekly"),
            "schedules": [
                {
                    "expression": "rate(7 days)",
                    "to": "+14155550101",
                    "enabled": False,
                    "timezone": "Europe/London",
                }
            ],
        }
    )
    desired = desired_schedules("acme", file) + desired_schedules(
        "acme", file_with_disabled_schedule
    )
    assert [(d.automation, d.position, d.expression, d.state, d.timezone) for d in desired] == [
        ("daily", 1, "rate(1 day)", "ENABLED", "UTC"),
        ("daily", 2, "cron(0 8 * * ? *)", "ENABLED", "UTC"),
        ("off", 1, "rate(1 hour)", "DISABLED", "UTC"),
        ("weekly", 1, "rate(7 days)", "DISABLED", "Europe/London"),
    ]


def test_desired_schedules_of_no_file_is_none() -> None:
    assert desired_schedules("acme", None) == []


def test_input_names_where_to_look_and_the_scheduled_time() -> None:
    (desired,) = desired_schedules("acme", trigger_set(automation("Daily", "rate(1 day)")))
    assert json.loads(desired.input_json()) == {
        "kind": "automation_schedule",
        "account": "acme",
        "automation": "Daily",
        "schedule": 1,
        "schedule_name": desired.name,
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    assert "+1415" not in desired.input_json()


def test_find_schedule_by_position() -> None:
    file = trigger_set(automation("Daily", "rate(1 day)", "rate(2 days)"))
    found = schedules.find_schedule(file, "daily", 2)
    assert found is not None
    assert found[1].expression == "rate(2 days)"
    assert schedules.find_schedule(file, "daily", 3) is None
    assert schedules.find_schedule(file, "daily", 0) is None
    assert schedules.find_schedule(file, "weekly", 1) is None
    assert schedules.find_schedule(None, "daily", 1) is None


def test_plan_creates_what_is_missing_and_deletes_what_is_not_wanted() -> None:
    desired = desired_schedules("acme", trigger_set(automation("daily", "rate(1 day)")))
    stale = replace(existing(desired[0]), name="acme.gone.00000000.1")
    plan = plan_sync(desired, [stale], TARGET)
    assert plan.create == tuple(desired)
    assert plan.update == ()
    assert plan.delete == ("acme.gone.00000000.1",)
    assert plan.changes == 2


def test_plan_leaves_an_identical_schedule_alone() -> None:
    desired = desired_schedules("acme", trigger_set(automation("daily", "rate(1 day)")))
    plan = plan_sync(desired, [existing(desired[0])], TARGET)
    assert plan.changes == 0
    assert plan.unchanged == (desired[0].name,)


@pytest.mark.parametrize(
    "change",
    [
        {"expression": "rate(2 days)"},
        {"timezone": "Europe/Paris"},
        {"state": "DISABLED"},
        {"input": "{}"},
        {"input": "not json"},
        {"target_arn": TARGET + "-old"},
    ],
)
def test_plan_updates_a_schedule_that_differs(change: dict[str, str]) -> None:
    desired = desired_schedules("acme", trigger_set(automation("daily", "rate(1 day)")))
    plan = plan_sync(desired, [existing(desired[0], **change)], TARGET)
    assert plan.update == tuple(desired)
    assert plan.create == plan.delete == ()


def test_plan_for_no_file_deletes_everything() -> None:
    desired = desired_schedules("acme", trigger_set(automation("daily", "rate(1 day)")))
    plan = plan_sync([], [existing(desired[0])], TARGET)
    assert plan.delete == (desired[0].name,)


def test_plan_summary_can_be_logged_as_extra_fields() -> None:
    """``logging`` refuses an ``extra`` key that is a LogRecord attribute (``created``, ...)."""
    import logging

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    assert not set(plan_sync([], [], TARGET).summary()) & set(vars(record))
