"""Concurrent deliveries of one MessageSid over real HTTP (moto server): exactly one write wins."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import boto3
import pytest
from moto.server import ThreadedMotoServer

from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.inbound.message import InboundMessage
from tests.support.aws import use_dummy_aws_credentials
from tests.support.events import inbound_example
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

CONCURRENT_DELIVERIES = 8


@pytest.fixture
def dynamodb_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_dummy_aws_credentials(monkeypatch)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_message_store_concurrent_duplicates_store_exactly_one(dynamodb_endpoint: str) -> None:
    kwargs = create_table_kwargs()
    boto3.client("dynamodb", endpoint_url=dynamodb_endpoint).create_table(**kwargs)
    params = tuple(tuple(p) for p in inbound_example("sms_plain")["params"])
    barrier = Barrier(CONCURRENT_DELIVERIES)

    def deliver(attempt: int) -> bool:
        client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)
        store = DynamoMessageStore(kwargs["TableName"], client)
        item = InboundMessage("acme", f"2026-11-26T18:00:00.{attempt:03d}Z", params, {}).to_item()  # type: ignore[arg-type]
        barrier.wait()
        return store.put_new(item)

    with ThreadPoolExecutor(CONCURRENT_DELIVERIES) as pool:
        outcomes = list(pool.map(deliver, range(CONCURRENT_DELIVERIES)))

    assert outcomes.count(True) == 1
    assert outcomes.count(False) == CONCURRENT_DELIVERIES - 1
    items = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint).scan(
        TableName=kwargs["TableName"]
    )["Items"]
    assert len(items) == 1
