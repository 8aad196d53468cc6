"""Faults the existing integration tests leave out, each followed by Twilio's retry.

Already covered elsewhere (not repeated here): DynamoDB throttling the inbound PutItem → 503
and the account lookup raising → 500 (``tests/integration/test_inbound_webhook.py``); Twilio
500/429/503 then success → one SMS, a dropped answer after Twilio created the message, a crash
after Twilio accepted → no second SMS, a poison record failing alone, redelivery
(``tests/integration/test_trigger_processor.py``). Here, injected at the AWS client seam of the
real handlers on moto:

- the inbound webhook when DynamoDB cannot be reached, Secrets Manager is throttled, or the
  account GetItem is throttled: 5xx, nothing stored, and the retry stores the message once (a
  failure is never cached);
- the status callback when the history PutItem, or the summary UpdateItem after it, fails:
  503, and the retry leaves no half-done state (history and current status both recorded);
- the trigger processor when the step record cannot be written after Twilio accepted the SMS,
  or the step cannot be claimed: the record fails, the redelivery sends exactly one SMS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.inbound_webhook import handler as inbound
from functions.status_callback import handler as status_callback
from functions.trigger_processor import handler as processor
from sms_automation import keys
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.adapters.step_ledger import DynamoStepLedger
from sms_automation.processing.ledger import StepState
from tests.resilience.faults import CONNECTION_ERROR, AwsFaults
from tests.support.aws import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import inbound_example, signed_webhook_event
from tests.support.moto_stack import deploy, push_triggers
from tests.support.streams import TableStream, stream_event
from tests.support.twilio_server import TwilioTestServer

pytestmark = pytest.mark.integration

SMS = inbound_example("sms_plain")
SMS_SID = "SM11111111111111111111111111111111"
OUTBOUND_SID = "SM" + "ab" * 16
TRIGGERS = """
version: 1
triggers:
  - name: auto-reply
    actions:
      - type: send_sms
        body: "Thanks, we got: %Body%"
"""
MODULES = (inbound, status_callback, processor)


@dataclass
class Stack:
    table: str
    faults: AwsFaults
    twilio: TwilioTestServer

    def receive(self) -> dict[str, Any]:
        event = signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN)
        return dict(inbound.lambda_handler(event, FakeLambdaContext()))

    def status(self, status: str) -> dict[str, Any]:
        body = f"MessageSid={OUTBOUND_SID}&MessageStatus={status}&AccountSid={TEST_ACCOUNT_SID}"
        event = signed_webhook_event("acme", body, TEST_AUTH_TOKEN, route="status")
        return dict(status_callback.lambda_handler(event, FakeLambdaContext()))

    def items(self, kind: str) -> list[dict[str, Any]]:
        scanned = boto3.client("dynamodb").scan(TableName=self.table)["Items"]
        return [item for item in scanned if item["kind"]["S"] == kind]


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    use_dummy_aws_credentials(monkeypatch)
    twilio = TwilioTestServer({TEST_ACCOUNT_SID: TEST_AUTH_TOKEN}, honour_idempotency_token=False)
    with mock_aws(), twilio:
        deployed = deploy(
            monkeypatch, twilio_base_url=twilio.base_url, records_table="records-faults"
        )
        push_triggers(deployed.table, TRIGGERS)
        for module in MODULES:
            clear_cached_dependencies(module)
        faults = AwsFaults.install(monkeypatch)  # the handlers' clients are created after this
        yield Stack(deployed.table, faults, twilio)
        for module in MODULES:
            clear_cached_dependencies(module)


def error_of(response: dict[str, Any]) -> tuple[int, str]:
    return response["statusCode"], json.loads(response["body"])["error"]


# --- the inbound webhook ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "error", "answer"),
    [
        ("dynamodb", "PutItem", CONNECTION_ERROR, (503, "storage_unavailable")),
        ("dynamodb", "PutItem", "ThrottlingException", (503, "storage_unavailable")),
        # A refusal a retry cannot get past is not called "unavailable" (the line names it).
        ("dynamodb", "PutItem", "AccessDeniedException", (500, "internal_error")),
        ("dynamodb", "PutItem", "ValidationException", (500, "internal_error")),
        ("secretsmanager", "GetSecretValue", "ThrottlingException", (500, "internal_error")),
        ("dynamodb", "GetItem", "ProvisionedThroughputExceededException", (500, "internal_error")),
    ],
)
def test_inbound_fault_answers_5xx_stores_nothing_and_the_retry_stores_once(
    stack: Stack, service: str, operation: str, error: str, answer: tuple[int, str]
) -> None:
    stack.faults.fail(service, operation, error=error)

    assert error_of(stack.receive()) == answer
    assert stack.faults.pending() == 0
    assert stack.items(keys.KIND_INBOUND_MESSAGE) == []

    assert stack.receive()["statusCode"] == 200  # Twilio's retry (or the fallback URL's)
    assert stack.receive()["statusCode"] == 200  # and a redelivery after that
    [stored] = stack.items(keys.KIND_INBOUND_MESSAGE)
    assert stored["message_sid"]["S"] == SMS_SID


# --- the status callback ------------------------------------------------------------------------


def _outbound_summary(params: Any) -> bool:
    return bool(params.get("Key", {}).get("sk", {}).get("S") == "OUT")


@pytest.mark.parametrize(
    ("error", "answer"),
    [
        ("ProvisionedThroughputExceededException", (503, "storage_unavailable")),
        ("AccessDeniedException", (500, "internal_error")),  # not "try again": it won't pass
    ],
)
def test_status_history_write_failing_answers_5xx_and_the_retry_records_it(
    stack: Stack, error: str, answer: tuple[int, str]
) -> None:
    stack.faults.fail("dynamodb", "PutItem", error=error)

    assert error_of(stack.status("delivered")) == answer
    assert stack.items(keys.KIND_OUTBOUND_STATUS) == []  # the summary moved first; no history

    assert stack.status("delivered")["statusCode"] == 200
    record = DynamoOutboundStore(stack.table, boto3.client("dynamodb")).get(OUTBOUND_SID)
    assert record is not None
    assert record.status == "delivered"
    assert [event.status for event in record.history] == ["delivered"]


def test_status_summary_update_failing_is_finished_by_the_retry(stack: Stack) -> None:
    assert stack.status("sent")["statusCode"] == 200
    stack.faults.fail("dynamodb", "UpdateItem", when=_outbound_summary, error=CONNECTION_ERROR)

    assert error_of(stack.status("delivered")) == (503, "storage_unavailable")
    assert stack.faults.pending() == 0
    store = DynamoOutboundStore(stack.table, boto3.client("dynamodb"))
    half_done = store.get(OUTBOUND_SID)
    assert half_done is not None
    assert half_done.status == "sent"  # neither the summary nor the history has "delivered"
    assert [event.status for event in half_done.history] == ["sent"]

    assert stack.status("delivered")["statusCode"] == 200  # Twilio retries the callback
    record = store.get(OUTBOUND_SID)
    assert record is not None
    assert record.status == "delivered"
    assert sorted(event.status for event in record.history) == ["delivered", "sent"]


# --- the trigger processor ----------------------------------------------------------------------


def _step_item(params: Any) -> bool:
    sort_key = params.get("Key", params.get("Item", {})).get("sk", {}).get("S", "")
    return str(sort_key).startswith(keys.STEP_SK_PREFIX)


def _deliver(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = processor.lambda_handler(stream_event(records), FakeLambdaContext())
    return list(response["batchItemFailures"])


@pytest.mark.parametrize(
    ("operation", "error", "sent_before_retry"),
    [
        ("UpdateItem", "ProvisionedThroughputExceededException", 1),  # finish, after Twilio
        ("PutItem", CONNECTION_ERROR, 0),  # claim, before Twilio
    ],
)
def test_processor_step_record_fault_then_redelivery_sends_one_sms(
    stack: Stack, operation: str, error: str, sent_before_retry: int
) -> None:
    stream = TableStream(stack.table)
    stream.new_records()  # the account and trigger writes
    assert stack.receive()["statusCode"] == 200
    records = stream.inserts_of_inbound_messages()
    stack.faults.fail("dynamodb", operation, error=error, when=_step_item)

    assert len(_deliver(records)) == 1
    assert stack.faults.pending() == 0
    assert len(stack.twilio.messages()) == sent_before_retry

    assert _deliver(records) == []
    assert _deliver(records) == []
    [sms] = stack.twilio.messages()
    ledger = DynamoStepLedger(stack.table, boto3.client("dynamodb"))
    [step] = ledger.entries(SMS_SID)
    assert (step.state, step.resource_sid) == (StepState.DONE, sms["sid"])
