"""``automations.service`` on the app table: the starter (accounts, trigger files and run
origins, on the UTC clock) and the run readers (origins, evaluations and action logs)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.automation_run_store import DynamoAutomationRunStore
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.automations.service import AutomationRuns, AutomationStarter

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from sms_automation.triggers.model import TriggerSet
    from sms_automation.triggers.versions import PerVersion


def dynamo_starter(
    table_name: str, client: DynamoDBClient, *, parsed: PerVersion[TriggerSet] | None = None
) -> AutomationStarter:
    return AutomationStarter(
        accounts=DynamoAccountStore(table_name, client),
        triggers=DynamoTriggerStore(table_name, client),
        runs=DynamoAutomationRunStore(table_name, client),
        clock=lambda: datetime.now(UTC),
        parsed=parsed,
    )


def dynamo_runs(table_name: str, client: DynamoDBClient) -> AutomationRuns:
    # Imported for the first run read: a start never reads action logs or evaluations, and they
    # bring the conversations' and outbound stores (~45 ms of a cold start, make bench).
    from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
    from sms_automation.composition.action_log import dynamo_action_log

    return AutomationRuns(
        origins=DynamoAutomationRunStore(table_name, client),
        statuses=DynamoEvaluationStore(table_name, client),
        log=dynamo_action_log(table_name, client),
    )


def describe_run(
    table_name: str, client: DynamoDBClient, run_id: str, *, account: str | None = None
) -> dict[str, Any] | None:
    """``AutomationRuns.describe``: a run's origin, status and action log, or ``None``."""
    return dynamo_runs(table_name, client).describe(run_id, account=account)


def list_runs(
    table_name: str,
    client: DynamoDBClient,
    account: str,
    *,
    automation: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """``AutomationRuns.recent``: an account's recent runs, newest first, without logs."""
    return dynamo_runs(table_name, client).recent(account, automation=automation, limit=limit)
