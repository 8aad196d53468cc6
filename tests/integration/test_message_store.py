"""The message store on moto with botocore's own client: a message item (text in any script,
numbers up to 38 digits, maps, lists, None) is stored once and read back as it was written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation import keys
from sms_automation.adapters.message_store import DynamoMessageStore
from tests.support.aws import use_dummy_aws_credentials
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

SID = "SM0123456789abcdef0123456789abcdef"
ITEM: dict[str, Any] = {
    **keys.message_key(SID),
    keys.GSI1_PK: keys.account_messages_index_pk("acme"),
    keys.GSI1_SK: f"2026-11-26T18:00:00.000Z#{SID}",
    "message_sid": SID,
    "body": "Olá 😀 — “quoted” \\ back\nslash",
    "params": {"Body": "Olá 😀", "NumMedia": "1", "MediaUrl0": "https://example.com/m"},
    "num_media": 1,
    "balance": -(10**37),
    "media": [{"url": "https://example.com/m", "content_type": "image/png"}],
    "from_geo": {"city": "São Paulo", "state": "", "zip": "", "country": "BR"},
    "opted_out": False,
    "profile_name": None,
    "repeated_params": {"Tag": ["a", "b"]},
}


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoMessageStore]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        kwargs = create_table_kwargs()
        boto3.client("dynamodb").create_table(**kwargs)
        client = boto3.client("dynamodb")
        yield DynamoMessageStore(kwargs["TableName"], client)


def test_a_message_item_is_stored_once_and_read_back_as_written(
    store: DynamoMessageStore,
) -> None:
    assert store.put_new(ITEM) is True
    assert store.get(SID) == ITEM
    assert store.put_new({**ITEM, "body": "a redelivery"}) is False
    assert store.get(SID) == ITEM
    assert list(store.list_for_account("acme")) == [ITEM]


def test_gsi1_holds_the_message_s_keys_only_and_the_listing_reads_the_item_by_key(
    store: DynamoMessageStore,
) -> None:
    """The ~2 KB message item is not copied into gsi1 (keys only: docs/cost.md); listing the
    account's messages still answers with whole items."""
    assert store.put_new(ITEM) is True
    [indexed] = boto3.client("dynamodb").query(
        TableName=create_table_kwargs()["TableName"],
        IndexName=keys.GSI1,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": keys.GSI1_PK},
        ExpressionAttributeValues={":pk": {"S": keys.account_messages_index_pk("acme")}},
    )["Items"]
    assert set(indexed) == {keys.PK, keys.SK, keys.GSI1_PK, keys.GSI1_SK}
    assert list(store.list_for_account("acme")) == [ITEM]
