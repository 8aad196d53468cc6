"""Automation events: EventBridge → a started automation run, from an ``SMS automation start``
event on a bus (the example rule in the template) or an EventBridge Scheduler schedule
(``schedule_sync``). Both invoke asynchronously.

A rejected start (unknown automation, invalid variables, ...) is logged and counted by reason
and *not* retried: the same event would be rejected again. Any other failure raises, so Lambda
retries the event and, after its retries, sends it to the on-failure destination
(AutomationsDLQ). The idempotency key (the event's, its id, or the schedule's name and time)
makes a retry start one run. A schedule that names a ``broadcast`` file starts a broadcast of
it instead (``_start_broadcast``; its key, the schedule's name and time, makes it one broadcast
and one execution), and a file not there is a rejection, logged and not retried.

DynamoDB failing for now (``RunStoreUnavailable``, throttling, a timeout) raises for the retry.
DynamoDB failing for good (``AccessDeniedException``, ``ResourceNotFoundException``: a role or
table misconfigured) writes an ERROR line with the error code and raises too: the function's
only record of a failed event is the on-failure destination, so returning would drop the event
silently. Its two retries cannot succeed unless the cause is fixed meanwhile; then the event
waits in AutomationsDLQ (its alarm fires) to be started again once it is.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code, is_transient
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.automations import events
from sms_automation.automations.service import AutomationStarter
from sms_automation.automations.start import StartRejected, StartRequest, invalid_field
from sms_automation.composition.automations import dynamo_starter
from sms_automation.edge import aws
from sms_automation.edge.log_lines import Count, LambdaContextLike, LogLine, LogLines
from sms_automation.edge.settings import AutomationSettings, BroadcastSettings
from sms_automation.pii import mask_phone
from sms_automation.triggers.versions import PerVersion, StoredTriggers, parsed_trigger_files

if TYPE_CHECKING:
    from sms_automation.triggers.model import TriggerSet

log_lines = LogLines.from_environ(os.environ, "automation-events")


@cache
def _table() -> str:
    return AutomationSettings.from_environ(os.environ).table_name


@cache
def _dynamodb() -> Any:
    return aws.client("dynamodb")


@cache
def _parsed() -> PerVersion[TriggerSet]:
    return parsed_trigger_files()


@cache
def _starter() -> AutomationStarter:
    return dynamo_starter(_table(), _dynamodb(), parsed=_parsed())


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    source = "schedule" if events.is_scheduled(event) else "event"
    fields: dict[str, Any] = {"source": source, "event_id": event.get("id")}
    try:
        request, current = _request(event, fields)
        fields |= {"account": request.account, "automation": request.automation}
        if isinstance(request, events.ScheduledBroadcast):
            fields["broadcast_file"] = request.file_key
            return _start_broadcast(request, fields, context)
        started = _starter().start(request, current)
    except StartRejected as rejected:
        reason = rejected.reason.value
        problems = {"reason": reason, "problems": [p.field for p in rejected.problems]}
        counted = (Count(name="AutomationStartsRejected", dimensions={"Reason": reason}),)
        message = "automation start rejected (not retried)"
        log_lines.write(LogLine("WARNING", message, fields | problems, counted), context)
        return {"started": False, **rejected.as_dict()}
    except AWS_ERRORS as error:
        if not is_transient(error):
            failed = {"reason": "storage_failed", "error_code": error_code(error)}
            message = (
                "automation start failed: AWS refused for good (check the function's role, "
                "TABLE_NAME and the broadcast settings); the event goes to AutomationsDLQ after "
                "Lambda's retries"
            )
            log_lines.write(LogLine("ERROR", message, fields | failed), context)
        raise
    # RunStoreUnavailable (and anything unforeseen) raises as it is: Lambda retries the event.
    counts = (Count(name="AutomationRunsStarted"),) if started.created else ()
    run = {
        "run_id": started.run_id,
        "new_run": started.created,
        "requested_by": request.requested_by,
        "to": mask_phone(request.to if isinstance(request.to, str) else None),
    }
    message = "automation run started" if started.created else "automation run already started"
    log_lines.write(LogLine("INFO", message, fields | run, counts), context, started.run_id)
    return {"started": True, **started.as_dict()}


def _start_broadcast(
    request: events.ScheduledBroadcast, fields: dict[str, Any], context: LambdaContextLike
) -> dict[str, Any]:
    """A schedule's broadcast, started once for its firing (``Broadcasts.create`` with the
    schedule's key: one record, one execution, however often the firing is delivered). A file
    that is not there is a rejection (logged, counted, not retried): a retry would not find it
    either. The broadcasts code is imported here, on first use: a run's start never loads it."""
    from sms_automation.adapters.broadcast_files import upload_exists
    from sms_automation.broadcasts.service import public_view
    from sms_automation.composition.broadcasts import service

    bucket = BroadcastSettings.from_environ(os.environ).bucket
    if not upload_exists(aws.client("s3"), bucket, request.file_key):
        raise invalid_field("broadcast", "there is no such file in the broadcasts bucket")
    record = service().create(
        request.account,
        request.automation,
        request.file_key,
        requested_by=request.requested_by,
        idempotency_key=request.idempotency_key,
    )
    created = bool(record["created"])
    started = {"broadcast_id": record["broadcast_id"], "new_broadcast": created}
    message = "scheduled broadcast started" if created else "scheduled broadcast already started"
    log_lines.write(LogLine("INFO", message, fields | started), context, record["broadcast_id"])
    return {"started": True, "broadcast": public_view(record)}


def _request(
    event: dict[str, Any], fields: dict[str, Any]
) -> tuple[StartRequest | events.ScheduledBroadcast, StoredTriggers | None]:
    """The request, and for a schedule the trigger file it was read from (the run's version)."""
    if not events.is_scheduled(event):
        return events.request_from_event(event), None
    scheduled = events.scheduled_start(event)
    fields["schedule"] = scheduled.schedule_name
    stored = DynamoTriggerStore(_table(), _dynamodb()).current(scheduled.account)
    current = _parsed().get(scheduled.account, stored) if stored is not None else None
    return events.request_from_schedule(scheduled, current), stored
