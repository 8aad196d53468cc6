"""The automations API (IAM-authorised REST): start a run, read a run, list an automation's runs.

Routing, parsing and every answer live in ``sms_automation.automations.http``; this module wires
the DynamoDB-backed starter and readers, logs and metrics. No tracer: X-Ray still records the
invocation (``Tracing: Active``) without aws-xray-sdk in the cold start.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code, is_transient
from sms_automation.automations import http
from sms_automation.automations.service import RunStoreUnavailable, StartedRun
from sms_automation.automations.start import StartRequest
from sms_automation.composition.automations import describe_run, dynamo_starter, list_runs

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "automation-api"
logger = Logger(service=_SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SmsAutomation", service=_SERVICE
)

# API Gateway gives up after 29 s; a caller retries a 503 with the same idempotency key.
_AWS_CONFIG = Config(
    connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3}
)


class DynamoBackend:
    """The automations backend on the app table: ``http.Unavailable`` when DynamoDB fails for
    now (a retry may succeed), ``http.StorageFailed`` when it fails for good (``aws_failures``)."""

    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client
        self._accounts = DynamoAccountStore(table_name, client)
        self._starter = dynamo_starter(table_name, client)

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
    return DynamoBackend(os.environ["TABLE_NAME"], boto3.client("dynamodb", config=_AWS_CONFIG))


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    path = event.get("pathParameters") or {}
    logger.append_keys(account=path.get("account"), automation=path.get("name"))
    try:
        answer = http.handle(event, _backend())
    except Exception:
        logger.exception("automations API request failed", extra={"reason": "internal_error"})
        if str(event.get("httpMethod") or "").upper() == "POST":
            _count_rejection("internal_error")
        return http.json_response(
            500, {"error": "internal_error", "message": "nothing was started; try again"}
        )
    if answer.started is not None:
        _record_start(answer.started, event)
    if answer.rejected is not None:
        _count_rejection(answer.rejected)
    if answer.storage_failure is not None:
        logger.error(
            "automations API cannot use DynamoDB: not retryable, check the function's role "
            "and TABLE_NAME",
            extra={"reason": "storage_failed", "error_code": answer.storage_failure},
        )
    elif answer.rejected is not None:
        logger.warning(
            "automation start rejected",
            extra={"reason": answer.rejected, "status": answer.response["statusCode"]},
        )
    return answer.response


def _record_start(started: http.StartedRunView, event: dict[str, Any]) -> None:
    logger.set_correlation_id(started.run_id)
    if started.created:
        metrics.add_metric(name="AutomationRunsStarted", unit=MetricUnit.Count, value=1)
    logger.info(
        "automation run started" if started.created else "automation run already started",
        extra={
            "run_id": started.run_id,
            "new_run": started.created,
            "caller": http.caller(event),
        },
    )


def _count_rejection(reason: str) -> None:
    metrics.add_dimension(name="Reason", value=reason)
    metrics.add_metric(name="AutomationStartsRejected", unit=MetricUnit.Count, value=1)
