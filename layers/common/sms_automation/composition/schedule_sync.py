"""The schedule sync: DynamoDB stream (an account's trigger pointer or account item changed) →
its EventBridge Scheduler schedules (``automations.schedules.sync_account``).

INSERT/MODIFY of a pointer (a push or a rollback), or MODIFY of the account item (its time zone
may have changed): the account's schedules become what its current trigger file and account
say; REMOVE of the pointer: they are deleted. Records are settled one by one (``edge.batch``: a
failed record is retried, bisected, then described in AutomationsDLQ); one line per record.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from sms_automation import keys
from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.scheduler import EventBridgeSchedules, SchedulerTarget
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.automations.schedules import sync_account
from sms_automation.edge import aws
from sms_automation.edge.batch import Record, settle_each
from sms_automation.edge.log_lines import Count, LambdaContextLike, LogLine, LogLines
from sms_automation.edge.settings import ScheduleSyncSettings
from sms_automation.triggers.versions import PerVersion, parsed_trigger_files

if TYPE_CHECKING:
    from sms_automation.triggers.model import TriggerSet

log_lines = LogLines.from_environ(os.environ, "schedule-sync")


@cache
def _settings() -> ScheduleSyncSettings:
    return ScheduleSyncSettings.from_environ(os.environ)


@cache
def _dynamodb() -> Any:
    return aws.client("dynamodb")


@cache
def _target() -> SchedulerTarget:
    settings = _settings()
    return SchedulerTarget(
        group=settings.schedule_group,
        function_arn=settings.automation_events_arn,
        role_arn=settings.scheduler_role_arn,
    )


@cache
def _schedules() -> EventBridgeSchedules:
    return EventBridgeSchedules(aws.client("scheduler"), _target())


@cache
def _parsed() -> PerVersion[TriggerSet]:
    return parsed_trigger_files()


def _current_triggers(account: str) -> TriggerSet | None:
    stored = DynamoTriggerStore(_settings().table_name, _dynamodb()).current(account)
    return _parsed().get(account, stored) if stored is not None else None


def _account_zone(account: str) -> str | None:
    found = DynamoAccountStore(_settings().table_name, _dynamodb()).get(account)
    return found.timezone if found is not None else None


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    def failed(record: Record, error: Exception) -> None:
        line = LogLine("ERROR", "record failed; reported for retry", {}, error=error)
        log_lines.write(line, context, str(record.get("eventID") or "") or None)

    return settle_each(event.get("Records", []), lambda r: _sync(r, context), failed).response()


def _sync(record: Record, context: LambdaContextLike) -> bool:
    stream = record.get("dynamodb") or {}
    partition = ((stream.get("Keys") or {}).get(keys.PK) or {}).get("S", "")
    account = keys.account_of_partition(str(partition))
    if account is None:
        raise ValueError(f"stream record {record.get('eventID')} is not an account's item")
    event_name = str(record.get("eventName", ""))
    synced = sync_account(
        account,
        removed=event_name == "REMOVE",
        current_triggers=_current_triggers,
        account_zone=_account_zone,
        schedules=_schedules(),
        target_arn=_target().function_arn,
    )
    fields = {"account": account, "event": event_name, "desired": synced.desired}
    changed = (Count(name="SchedulesChanged", value=synced.plan.changes),)
    log_lines.write(
        LogLine("INFO", "schedules synced", fields | synced.plan.summary(), changed), context
    )
    return True
