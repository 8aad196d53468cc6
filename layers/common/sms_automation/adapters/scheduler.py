"""EventBridge Scheduler: one account's schedules in the stack's schedule group, listed and
brought to what ``automations.schedules.plan_sync`` says.

Every schedule targets the automation-events function through the scheduler execution role,
with a flexible window OFF (a reminder at 08:00 is sent at 08:00) and the target's retry policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from sms_automation.automations.schedules import (
    DesiredSchedule,
    ExistingSchedule,
    SyncPlan,
    name_prefix,
)

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

RETRY_ATTEMPTS: Final = 10
MAX_EVENT_AGE_SECONDS: Final = 3600


@dataclass(frozen=True, slots=True)
class SchedulerTarget:
    group: str
    function_arn: str
    role_arn: str


class EventBridgeSchedules:
    def __init__(self, client: EventBridgeSchedulerClient, target: SchedulerTarget) -> None:
        self._client = client
        self._target = target

    def existing(self, account: str) -> list[ExistingSchedule]:
        """The account's schedules in the group (their names start with ``name_prefix``)."""
        found = []
        paginator = self._client.get_paginator("list_schedules")
        pages = paginator.paginate(GroupName=self._target.group, NamePrefix=name_prefix(account))
        for page in pages:
            for summary in page.get("Schedules", []):
                schedule = self._get(summary["Name"])
                if schedule is not None:
                    found.append(schedule)
        return found

    def apply(self, plan: SyncPlan) -> None:
        for schedule in plan.create:
            try:
                self._client.create_schedule(**self._definition(schedule))
            except ClientError as error:
                if _code(error) != "ConflictException":  # created meanwhile: make it ours
                    raise
                self._client.update_schedule(**self._definition(schedule))
        for schedule in plan.update:
            self._client.update_schedule(**self._definition(schedule))
        for name in plan.delete:
            try:
                self._client.delete_schedule(Name=name, GroupName=self._target.group)
            except ClientError as error:
                if _code(error) != "ResourceNotFoundException":
                    raise

    def _get(self, name: str) -> ExistingSchedule | None:
        try:
            response = self._client.get_schedule(Name=name, GroupName=self._target.group)
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":  # deleted since the listing
                return None
            raise
        target = response.get("Target", {})
        return ExistingSchedule(
            name=name,
            expression=response.get("ScheduleExpression", ""),
            timezone=response.get("ScheduleExpressionTimezone", "") or "UTC",
            state=response.get("State", ""),
            input=target.get("Input", ""),
            target_arn=target.get("Arn", ""),
        )

    def _definition(self, schedule: DesiredSchedule) -> Any:
        return {
            "Name": schedule.name,
            "GroupName": self._target.group,
            "ScheduleExpression": schedule.expression,
            "ScheduleExpressionTimezone": schedule.timezone,
            "State": schedule.state,
            "Description": f"sms-automation: {schedule.automation[:200]}, schedule "
            f"{schedule.position}",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": self._target.function_arn,
                "RoleArn": self._target.role_arn,
                "Input": schedule.input_json(),
                "RetryPolicy": {
                    "MaximumRetryAttempts": RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
                },
            },
        }


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
