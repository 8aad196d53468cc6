"""The deployed stack, recreated in moto (or a moto server through ``AWS_ENDPOINT_URL``): both
tables from template.yaml, the ``acme`` account, the functions' environment, the triggers.

Call inside ``mock_aws()`` (or with ``AWS_ENDPOINT_URL`` pointing at a moto server), after
``use_dummy_aws_credentials``; clear the handlers' cached clients afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
import pytest

from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.triggers.publish import Published, publish
from tests.support.aws import SECRETS_PREFIX, account_registry, add_account, unpaced
from tests.support.template import create_table_kwargs

WEBHOOK_BASE_URL = "https://hooks.example.com/dev"


@dataclass(frozen=True, slots=True)
class MotoStack:
    table: str
    records_table: str


def deploy(
    monkeypatch: pytest.MonkeyPatch,
    *,
    twilio_base_url: str,
    records_table: str = "records-test",
) -> MotoStack:
    """Tables, the ``acme`` account (its token in Secrets Manager) and the processor's and
    webhooks' environment, as the template sets it; no conversation state machine."""
    dynamodb = boto3.client("dynamodb")
    app = create_table_kwargs()
    records = create_table_kwargs(records_table, logical_id="RecordsTable")
    dynamodb.create_table(**app)
    dynamodb.create_table(**records)
    audit = create_table_kwargs("audit-test", logical_id="AuditTable")
    dynamodb.create_table(**audit)
    registry = account_registry(app["TableName"], dynamodb, boto3.client("secretsmanager"))
    add_account(registry)
    unpaced(registry)
    for name, value in {
        "TABLE_NAME": app["TableName"],
        "RECORDS_TABLE": records["TableName"],
        "AUDIT_TABLE": audit["TableName"],
        "SECRETS_PREFIX": SECRETS_PREFIX,
        "PUBLIC_BASE_URL": "",
        "WEBHOOK_BASE_URL": WEBHOOK_BASE_URL,
        "TWILIO_API_BASE_URL": twilio_base_url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CONVERSATION_STATE_MACHINE_ARN", raising=False)
    return MotoStack(app["TableName"], records["TableName"])


def push_triggers(table: str, source: str, account: str = "acme") -> Published:
    """What ``sms-automation triggers push`` stores."""
    store = DynamoTriggerStore(table, boto3.client("dynamodb"))
    return publish(store, account, source, now=datetime.now(UTC))
