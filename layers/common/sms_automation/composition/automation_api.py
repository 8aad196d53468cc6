"""The automations API (IAM-authorised): start a run, read a run, list an automation's runs;
start a broadcast, read it, pause, resume or cancel it.

Routing, parsing and every answer live in ``automations.http``; this module builds the
DynamoDB-backed backend (once per warm Lambda, on first use) and says what each answer logs and
counts: one line per request (a start, a refusal by reason, a storage failure, a broadcast's
pause, resume or cancel with its caller).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code, is_transient
from sms_automation.automations import http
from sms_automation.automations.service import RunStoreUnavailable, StartedRun
from sms_automation.automations.start import StartRequest
from sms_automation.broadcasts.service import BroadcastStateConflict, public_view
from sms_automation.composition.automations import describe_run, dynamo_starter, list_runs
from sms_automation.edge import aws
from sms_automation.edge.log_lines import Count, LambdaContextLike, LogLine, LogLines
from sms_automation.edge.settings import AutomationSettings, BroadcastSettings

if TYPE_CHECKING:
    from sms_automation.broadcasts.service import Broadcasts

REPORT_THREADS = 8

log_lines = LogLines.from_environ(os.environ, "automation-api")


class DynamoBackend:
    """The automations backend on the app table: ``http.Unavailable`` when DynamoDB fails for
    now (a retry may succeed), ``http.StorageFailed`` when it fails for good (``aws_failures``)."""

    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client
        self._accounts = DynamoAccountStore(table_name, client)
        self._starter = dynamo_starter(table_name, client)
        self._broadcast_service: Broadcasts | None = None

    def start(self, request: StartRequest) -> StartedRun:
        return _available(lambda: self._starter.start(request))

    def describe(self, account: str, run_id: str) -> dict[str, Any] | None:
        return _available(lambda: describe_run(self._table, self._client, run_id, account=account))

    def recent(self, account: str, automation: str, limit: int) -> list[dict[str, Any]]:
        table, client = self._table, self._client
        return _available(
            lambda: list_runs(table, client, account, automation=automation, limit=limit)
        )

    def account_exists(self, account: str) -> bool:
        return _available(lambda: self._accounts.get(account) is not None)

    def start_broadcast(
        self,
        account: str,
        automation: str,
        key: str,
        *,
        idempotency_key: str | None,
        requested_by: str,
    ) -> tuple[dict[str, Any], bool]:
        service = self._broadcasts()

        def create() -> tuple[dict[str, Any], bool]:
            record = service.create(
                account, automation, key, requested_by=requested_by, idempotency_key=idempotency_key
            )
            return public_view(record), bool(record["created"])

        return _available(create)

    def describe_broadcast(self, account: str, broadcast_id: str) -> dict[str, Any] | None:
        return _available(lambda: self._broadcasts().describe(broadcast_id, account))

    def broadcast_report(
        self, account: str, broadcast_id: str, max_rows: int
    ) -> dict[str, Any] | None:
        from sms_automation.composition.broadcasts import broadcast_report

        service = self._broadcasts()

        def check_rows(rows: int) -> None:
            if rows > max_rows:
                raise http.report_too_large(rows)

        def report() -> dict[str, Any] | None:
            record = service.get(broadcast_id, account)
            if record is None:
                return None
            return broadcast_report(
                service,
                record,
                table_name=self._table,
                dynamodb=self._client,
                threads=REPORT_THREADS,
                check_rows=check_rows,
            )

        return _available(report)

    def change_broadcast(
        self, account: str, automation: str, broadcast_id: str, change: str
    ) -> dict[str, Any] | None:
        service = self._broadcasts()
        changes = {"pause": service.pause, "resume": service.resume, "cancel": service.cancel}

        def apply() -> dict[str, Any] | None:
            record = service.get(broadcast_id, account)
            if record is None or not http.same_automation(record, automation):
                return None
            try:
                return changes[change](broadcast_id)
            except BroadcastStateConflict as conflict:
                raise http.broadcast_state_conflict(str(conflict)) from None

        return _available(apply)

    def _broadcasts(self) -> Broadcasts:
        if self._broadcast_service is None:
            from sms_automation.composition.broadcasts import broadcasts

            self._broadcast_service = broadcasts(
                BroadcastSettings.from_environ(os.environ),
                dynamodb=self._client,
                s3=aws.client("s3", aws.ANSWERING),
                states=aws.client("stepfunctions", aws.ANSWERING),
            )
        return self._broadcast_service


def _available[T](call: Callable[[], T]) -> T:
    try:
        return call()
    except RunStoreUnavailable as error:
        raise http.Unavailable(str(error)) from error
    except AWS_ERRORS as error:
        if is_transient(error):
            raise http.Unavailable("DynamoDB did not answer or refused for now") from error
        raise http.StorageFailed(error_code(error)) from error


@cache
def _backend() -> DynamoBackend:
    # The integration waits 20 s (template.yaml); a caller retries a 503 with the same key.
    table = AutomationSettings.from_environ(os.environ).table_name
    return DynamoBackend(table, aws.client("dynamodb", aws.ANSWERING))


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    path = event.get("pathParameters") or {}
    fields = {"account": path.get("account"), "automation": path.get("name")}
    try:
        answer = http.handle(event, _backend())
    except Exception as error:
        counts = _rejection("internal_error") if _is_start(event) else ()
        failed = fields | {"reason": "internal_error"}
        line = LogLine("ERROR", "automations API request failed", failed, counts, error)
        log_lines.write(line, context)
        return http.json_response(
            500, {"error": "internal_error", "message": "nothing was started; try again"}
        )
    written = _line(answer, event, fields)
    if written is not None:  # a read that was answered writes nothing
        line, correlation_id = written
        log_lines.write(line, context, correlation_id)
    return answer.response


def _line(
    answer: http.Answer, event: dict[str, Any], fields: dict[str, Any]
) -> tuple[LogLine, str | None] | None:
    """What the answer logs and counts, and its correlation id (the run's)."""
    if answer.started is not None:
        started = answer.started
        counts: tuple[Count, ...] = (
            (Count(name="AutomationRunsStarted"),) if started.created else ()
        )
        run = {"run_id": started.run_id, "new_run": started.created, "caller": http.caller(event)}
        message = "automation run started" if started.created else "automation run already started"
        return LogLine("INFO", message, fields | run, counts), started.run_id
    change = http.BROADCAST_CHANGES.get(http.route_template(event))
    if change is not None and answer.response["statusCode"] == 200:
        path = event.get("pathParameters") or {}
        changed = {"broadcast_id": path.get("broadcast_id"), "caller": http.caller(event)}
        return LogLine("INFO", f"broadcast {change} answered", fields | changed), None
    counts = _rejection(answer.rejected) if answer.rejected is not None else ()
    if answer.storage_failure is not None:
        message = (
            "automations API cannot use DynamoDB: not retryable, check the function's role "
            "and TABLE_NAME"
        )
        failed = {"reason": "storage_failed", "error_code": answer.storage_failure}
        return LogLine("ERROR", message, fields | failed, counts), None
    if answer.rejected is not None:
        rejected = {"reason": answer.rejected, "status": answer.response["statusCode"]}
        return LogLine("WARNING", "automation start rejected", fields | rejected, counts), None
    return None


def _rejection(reason: str) -> tuple[Count, ...]:
    return (Count(name="AutomationStartsRejected", dimensions={"Reason": reason}),)


def _is_start(event: dict[str, Any]) -> bool:
    starts = (http.RUNS_RESOURCE, http.BROADCASTS_RESOURCE)
    return http.http_method(event) == "POST" and http.route_template(event) in starts
