"""The exactly-once world: the real processor handler on moto, the real Twilio adapter against
the Twilio test server over HTTP, its status callbacks coming back over HTTP to the real status
callback handler behind a small API Gateway; one clock drives the processor and the server.
Optionally the processor's retry queue (and its DLQ) as template.yaml declares them.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.inbound_webhook import handler as inbound
from functions.status_callback import handler as status_callback
from functions.trigger_processor import handler as processor
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.adapters.step_ledger import DynamoStepLedger
from sms_automation.composition.runtime import Runtime
from sms_automation.edge.settings import ProcessorSettings
from sms_automation.processing.ledger import StepEntry
from tests.support.aws import (
    STACK_NAME,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import inbound_example, signed_webhook_event
from tests.support.http_gateway import ApiGatewayServer
from tests.support.moto_stack import deploy, push_triggers
from tests.support.streams import TableStream, stream_event
from tests.support.template import load_template, resolved
from tests.support.twilio_server import TwilioTestServer

SMS_SID = "SM11111111111111111111111111111111"  # inbound_example("sms_plain")'s


class Clock:
    """The processor's and the Twilio server's "now"; moved by the test, thread-safe."""

    def __init__(self) -> None:
        self._now = datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self._now += by


@dataclass
class World:
    twilio: TwilioTestServer
    table: str
    stream: TableStream
    clock: Clock
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> URL

    def receive(self, body: str = "Hello there") -> list[dict[str, Any]]:
        raw = inbound_example("sms_plain")["raw_body"].replace(
            "Body=Hello+there", f"Body={body.replace(' ', '+')}"
        )
        event = signed_webhook_event("acme", raw, TEST_AUTH_TOKEN)
        assert inbound.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200
        return self.stream.inserts_of_inbound_messages()

    def deliver(self, records: list[dict[str, Any]]) -> list[dict[str, str]]:
        """One invocation of the processor by the event source mapping (or a redrive)."""
        response = processor.lambda_handler(stream_event(records), FakeLambdaContext())
        return list(response["batchItemFailures"])

    def sms(self) -> list[dict[str, Any]]:
        return self.twilio.messages()

    def steps(self) -> dict[str, StepEntry]:
        ledger = DynamoStepLedger(self.table, boto3.client("dynamodb"))
        return {entry.step_id: entry for entry in ledger.entries(SMS_SID)}

    def origin_step(self, sid: str) -> str | None:
        record = DynamoOutboundStore(self.table, boto3.client("dynamodb")).get(sid)
        return None if record is None else record.origin_step_id

    def await_callback(self, sid: str) -> None:
        """Until the server has posted (and our handler answered) a status callback for sid."""
        deadline = time.monotonic() + 15
        while not any(c.resource_sid == sid for c in self.twilio.sent_callbacks()):
            assert time.monotonic() < deadline, "no status callback arrived"
            time.sleep(0.05)


@contextmanager
def running_world(
    monkeypatch: pytest.MonkeyPatch, triggers: str, *, retry_queue: bool = False
) -> Iterator[World]:
    """The world with ``triggers`` pushed for ``acme``; ``retry_queue``: the processor defers
    to TriggerProcessorRetryQueue (else none is configured and the stream retries)."""
    use_dummy_aws_credentials(monkeypatch)
    clock = Clock()
    # Like api.twilio.com: a repeated create makes a second message, whatever its headers.
    twilio_server = TwilioTestServer(
        {TEST_ACCOUNT_SID: TEST_AUTH_TOKEN},
        clock=clock,
        honour_idempotency_token=False,
        status_callbacks=True,
    )
    gateway = ApiGatewayServer({"status": status_callback.lambda_handler})
    # Lambda functions an invoke_lambda step calls answer with their payload (no docker).
    with mock_aws(config={"lambda": {"use_docker": False}}), twilio_server as twilio, gateway:
        deployed = deploy(monkeypatch, twilio_base_url=twilio.base_url)
        monkeypatch.setenv("WEBHOOK_BASE_URL", gateway.base_url)
        monkeypatch.setenv("FUNCTION_TIMEOUT_SECONDS", "120")
        queues = create_retry_queues() if retry_queue else {}
        monkeypatch.setenv("RETRY_QUEUE_URL", queues.get("TriggerProcessorRetryQueue", ""))
        for module in (inbound, processor, status_callback):
            clear_cached_dependencies(module)
        runtime = Runtime(ProcessorSettings.from_environ(os.environ), clock=clock)
        monkeypatch.setattr(processor.composition, "_runtime", lambda: runtime)
        push_triggers(deployed.table, triggers)
        stream = TableStream(deployed.table)
        stream.new_records()  # the account and trigger writes
        yield World(twilio, deployed.table, stream, clock, queues)
        for module in (inbound, processor, status_callback):
            clear_cached_dependencies(module)


def create_retry_queues() -> dict[str, str]:
    """TriggerProcessorRetryDLQ and TriggerProcessorRetryQueue (its redrive policy naming the
    DLQ) as template.yaml declares them, in moto: logical id -> URL."""
    sqs = boto3.client("sqs")
    resources = load_template()["Resources"]
    urls = {}
    for logical_id in ("TriggerProcessorRetryDLQ", "TriggerProcessorRetryQueue"):
        properties = resolved(resources[logical_id]["Properties"], stack_name=STACK_NAME)
        attributes = {
            name: json.dumps(value)
            if isinstance(value, dict)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for name, value in properties.items()
        }
        name = f"{STACK_NAME}-{logical_id}-GENERATED"  # what resolved() names its ARN
        urls[logical_id] = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return urls
