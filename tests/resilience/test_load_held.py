"""Load held: a burst of signed webhooks over real HTTP, then the stream through the processor.

200 signed webhooks (180 distinct messages, 10 % redeliveries of them mixed in) go from 16
threads to the real inbound handler behind ``ApiGatewayServer`` (127.0.0.1), with DynamoDB a
moto server over HTTP. The table's stream then goes through the real trigger processor, twice
(Lambda's event source mapping delivers at least once), which auto-replies through the real
Twilio adapter to a Twilio-like server that, like api.twilio.com, makes a new message for every
create. Asserted: every answer is 200, every distinct MessageSid is stored exactly once (0 lost),
and exactly one SMS goes to each sender (0 duplicate replies). No time is asserted.
"""

from __future__ import annotations

import random
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from functions.inbound_webhook import handler as inbound
from functions.trigger_processor import handler as processor
from sms_automation import keys
from tests.support.aws import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import inbound_example, twilio_signature
from tests.support.http_gateway import ApiGatewayServer
from tests.support.moto_stack import deploy, push_triggers
from tests.support.streams import TableStream, stream_event
from tests.support.twilio_server import TwilioTestServer

pytestmark = pytest.mark.integration

DISTINCT = 180
REDELIVERIES = 20  # 10 % of the 200 requests
THREADS = 16
STREAM_BATCH = 100  # the event source mapping's batch size
TRIGGERS = """
version: 1
triggers:
  - name: auto-reply
    actions:
      - type: send_sms
        body: "Thanks, we got: %Body%"
"""


@dataclass(frozen=True)
class Webhook:
    message_sid: str
    sender: str
    body: str


def webhooks() -> list[Webhook]:
    template = inbound_example("sms_plain")["raw_body"]
    distinct = []
    for index in range(DISTINCT):
        sid, sender = f"SM{index:032x}", f"+1415555{index:04d}"
        body = template.replace("SM11111111111111111111111111111111", sid).replace(
            "%2B14155550101", sender.replace("+", "%2B")
        )
        distinct.append(Webhook(sid, sender, body))
    seeded = random.Random(7)  # noqa: S311 (a reproducible mix, not a secret)
    mixed = distinct + seeded.sample(distinct, REDELIVERIES)
    seeded.shuffle(mixed)
    return mixed


@dataclass
class Stack:
    gateway: ApiGatewayServer
    twilio: TwilioTestServer
    table: str


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    use_dummy_aws_credentials(monkeypatch)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    twilio = TwilioTestServer({TEST_ACCOUNT_SID: TEST_AUTH_TOKEN}, honour_idempotency_token=False)
    gateway = ApiGatewayServer({"sms": inbound.lambda_handler})
    try:
        with twilio, gateway:
            deployed = deploy(
                monkeypatch, twilio_base_url=twilio.base_url, records_table="records-load"
            )
            push_triggers(deployed.table, TRIGGERS)
            for module in (inbound, processor):
                clear_cached_dependencies(module)
            yield Stack(gateway, twilio, deployed.table)
    finally:
        for module in (inbound, processor):
            clear_cached_dependencies(module)
        moto.stop()


def post(url: str, webhook: Webhook) -> int:
    request = urllib.request.Request(
        url,
        data=webhook.body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
            "X-Twilio-Signature": twilio_signature(url, webhook.body, TEST_AUTH_TOKEN),
            "I-Twilio-Idempotency-Token": f"{webhook.message_sid}-token",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def stored_message_sids(table: str) -> Counter[str]:
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return Counter(
        item["message_sid"]["S"]
        for page in pages
        for item in page["Items"]
        if item["kind"]["S"] == keys.KIND_INBOUND_MESSAGE
    )


def deliver_stream(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    failures: list[dict[str, Any]] = []
    for start in range(0, len(records), STREAM_BATCH):
        batch = records[start : start + STREAM_BATCH]
        response = processor.lambda_handler(stream_event(batch), FakeLambdaContext())
        failures.extend(response["batchItemFailures"])
    return failures


def test_burst_loses_nothing_and_replies_once_to_each_message(stack: Stack) -> None:
    burst = webhooks()
    url = stack.gateway.url("acme", "sms")
    assert len(burst) == DISTINCT + REDELIVERIES

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(lambda webhook: post(url, webhook), burst))

    assert Counter(statuses) == {200: len(burst)}
    stored = stored_message_sids(stack.table)
    expected = {webhook.message_sid for webhook in burst}
    assert set(stored) == expected  # 0 lost, nothing unexpected
    assert set(stored.values()) == {1}  # each exactly once

    stream = TableStream(stack.table)
    inserts = stream.inserts_of_inbound_messages()
    assert len(inserts) == DISTINCT  # a redelivery writes nothing, so it never reaches the stream
    assert deliver_stream(inserts) == []
    assert deliver_stream(inserts) == []  # delivered again: at least once, never twice

    replies = Counter(message["to"] for message in stack.twilio.messages())
    assert set(replies) == {webhook.sender for webhook in burst}
    assert set(replies.values()) == {1}  # 0 duplicate replies
