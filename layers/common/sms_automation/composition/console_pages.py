"""The console's automations and accounts pages on AWS: the starter and run readers every way to
start uses (``composition.automations``), the account items, the token secrets (Secrets
Manager, its client built on first use: the inbox never pays for it) and Twilio's REST API."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sms_automation.adapters.account_store import DynamoAccountStore, TokensOnFirstRead
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.composition.automations import dynamo_runs, dynamo_starter
from sms_automation.console.account_settings import ConsoleAccounts
from sms_automation.console.automations import AuditTrail, ConsoleAutomations
from sms_automation.triggers.versions import parsed_trigger_files

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from sms_automation.triggers.model import Automation
    from sms_automation.triggers.versions import StoredTriggers


class AccountNames:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._accounts = DynamoAccountStore(table_name, client)

    def exists(self, account: str) -> bool:
        return self._accounts.get(account) is not None


class CurrentAutomations:
    """The account's current trigger file (read each time: a push shows at once) and its
    automations (parsed once per version)."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._store = DynamoTriggerStore(table_name, client)
        self._parsed = parsed_trigger_files()

    def current(self, account: str) -> StoredTriggers | None:
        return self._store.current(account)

    def automations(self, account: str, stored: StoredTriggers) -> list[Automation]:
        return list(self._parsed.get(account, stored).automations)


def dynamo_automations(
    table_name: str, client: DynamoDBClient, audit: AuditTrail
) -> ConsoleAutomations:
    return ConsoleAutomations(
        accounts=AccountNames(table_name, client),
        files=CurrentAutomations(table_name, client),
        starter=dynamo_starter(table_name, client),
        runs=dynamo_runs(table_name, client),
        audit=audit,
    )


def aws_accounts(
    table_name: str,
    client: DynamoDBClient,
    secrets: Callable[[], SecretsManagerClient],
    audit: AuditTrail,
    *,
    webhook_base_url: str,
    twilio_api_base_url: str,
) -> ConsoleAccounts:
    from sms_automation.adapters.twilio_account import TwilioAccountApi

    return ConsoleAccounts(
        records=DynamoAccountStore(table_name, client),
        vault=TokensOnFirstRead(secrets),
        twilio=TwilioAccountApi(twilio_api_base_url),
        audit=audit,
        webhook_base_url=webhook_base_url.rstrip("/"),
    )
