"""A conversation-capable stack in one process, for integration tests: the real state machine
definition on moto's executor, our register/timer/resume handlers for its Lambda tasks, the real
trigger processor on moto's DynamoDB stream, the real webhook and status callback, and a
Twilio-like server on 127.0.0.1 that, like api.twilio.com, creates a second message for a
repeated create. Tests take the ``world`` fixture (re-exported by tests/integration/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from moto import mock_aws

from functions.conversation_register import handler as conversation_register
from functions.conversation_resume import handler as conversation_resume
from functions.conversation_timer import handler as conversation_timer
from functions.inbound_webhook import handler as inbound
from functions.status_callback import handler as status_callback
from functions.trigger_processor import handler as processor
from sms_automation.adapters.conversation_store import DynamoConversationStore
from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
from sms_automation.conversations.model import Conversation
from tests.support.aws import (
    SECRETS_PREFIX,
    STACK_NAME,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    account_registry,
    add_account,
    clear_cached_dependencies,
    unpaced,
    use_dummy_aws_credentials,
)
from tests.support.events import signed_webhook_event
from tests.support.moto_stack import push_triggers
from tests.support.stepfunctions import (
    InProcessLambda,
    create_state_machine,
    execution_status,
    function_arn,
    in_process_lambda,
    wait_until,
)
from tests.support.streams import TableStream, stream_event
from tests.support.template import create_table_kwargs
from tests.support.twilio_server import TwilioTestServer

OUR_NUMBER = "+15005550006"
ALICE = "+14155550101"
BOB = "+14155550102"
HANDLER_MODULES = (
    inbound,
    processor,
    status_callback,
    conversation_register,
    conversation_timer,
    conversation_resume,
)
_sids = count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


@dataclass
class World:
    twilio: TwilioTestServer
    table: str
    stream: TableStream
    lambdas: InProcessLambda
    state_machine_arn: str

    def push(self, source: str) -> None:
        push_triggers(self.table, source)
        self.stream.new_records()

    def receive(self, body: str, sender: str = ALICE) -> str:
        """The contact texts our number: Twilio posts it, the webhook stores it."""
        sid = new_sid()
        raw = urlencode(
            {
                "MessageSid": sid,
                "SmsMessageSid": sid,
                "AccountSid": TEST_ACCOUNT_SID,
                "From": sender,
                "To": OUR_NUMBER,
                "Body": body,
                "NumMedia": "0",
                "ApiVersion": "2010-04-01",
            }
        )
        response = inbound.lambda_handler(
            signed_webhook_event("acme", raw, TEST_AUTH_TOKEN), FakeLambdaContext()
        )
        assert response["statusCode"] == 200
        return sid

    def deliver(self, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        batch = self.stream.inserts_of_inbound_messages() if records is None else records
        return dict(processor.lambda_handler(stream_event(batch), FakeLambdaContext()))

    def text(self, body: str, sender: str = ALICE) -> str:
        sid = self.receive(body, sender)
        assert self.deliver() == {"batchItemFailures": []}
        return sid

    def bodies(self, to: str = ALICE) -> list[str]:
        """What we sent ``to``, in the order the Twilio server created it."""
        return [m["body"] for m in self.twilio.messages() if m["to"] == to]

    def conversation(self, message_sid: str, step_id: str = "ask/1") -> Conversation:
        found = DynamoConversationStore(self.table, boto3.client("dynamodb")).get(
            message_sid, step_id
        )
        assert found is not None
        return found

    def registered(self, message_sid: str, step_id: str = "ask/1") -> Conversation:
        """The register task has returned (the prompt is sent)."""
        wait_until(
            lambda: any(
                (e["message_sid"], e["step_id"]) == (message_sid, step_id)
                for e in self.lambdas.succeeded("conversation-register")
            ),
            what=f"the conversation {step_id} to be registered",
        )
        return self.conversation(message_sid, step_id)

    def finished(self, message_sid: str, step_id: str = "ask/1") -> str:
        arn = self.conversation(message_sid, step_id).execution_arn
        return str(
            wait_until(
                lambda: (s := execution_status(arn)) != "RUNNING" and s,
                what=f"execution of {step_id} to end",
            )
        )

    def run_status(self, message_sid: str) -> str:
        run = DynamoEvaluationStore(self.table, boto3.client("dynamodb")).get(message_sid)
        assert run is not None
        return run.status


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    use_dummy_aws_credentials(monkeypatch)
    real_twilio = TwilioTestServer(
        {TEST_ACCOUNT_SID: TEST_AUTH_TOKEN}, honour_idempotency_token=False
    )
    handlers = {
        "conversation-register": conversation_register.lambda_handler,
        "conversation-timer": conversation_timer.lambda_handler,
        "conversation-resume": conversation_resume.lambda_handler,
    }
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        real_twilio as twilio,
        in_process_lambda(monkeypatch, handlers) as lambdas,
    ):
        dynamodb = boto3.client("dynamodb")
        app = create_table_kwargs()
        records = create_table_kwargs("records-test", logical_id="RecordsTable")
        dynamodb.create_table(**app)
        dynamodb.create_table(**records)
        audit = create_table_kwargs("audit-test", logical_id="AuditTable")
        dynamodb.create_table(**audit)
        registry = account_registry(app["TableName"], dynamodb, boto3.client("secretsmanager"))
        add_account(registry)
        unpaced(registry)
        machine = create_state_machine(
            f"{STACK_NAME}-conversation",  # as template.yaml names it
            {
                "ConversationRegisterFunctionArn": function_arn("conversation-register"),
                "ConversationTimerFunctionArn": function_arn("conversation-timer"),
                "ConversationResumeFunctionArn": function_arn("conversation-resume"),
            },
        )
        for name, value in {
            "TABLE_NAME": app["TableName"],
            "RECORDS_TABLE": records["TableName"],
            "AUDIT_TABLE": audit["TableName"],
            "SECRETS_PREFIX": SECRETS_PREFIX,
            "PUBLIC_BASE_URL": "",
            "WEBHOOK_BASE_URL": "https://hooks.example.com/dev",
            "TWILIO_API_BASE_URL": twilio.base_url,
            "CONVERSATION_STATE_MACHINE_ARN": machine,
        }.items():
            monkeypatch.setenv(name, value)
        for module in HANDLER_MODULES:
            clear_cached_dependencies(module)
        stream = TableStream(app["TableName"])
        stream.new_records()
        yield World(twilio, app["TableName"], stream, lambdas, machine)
        for module in HANDLER_MODULES:
            clear_cached_dependencies(module)
