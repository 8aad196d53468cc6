"""Reads through the keys-only indexes: items come back by key, in the index's order."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from sms_automation.adapters import index_reads
from sms_automation.adapters.aws_failures import is_transient
from sms_automation.adapters.index_reads import indexed_items, items_by_key

TABLE = "app"


def key(n: int) -> dict[str, Any]:
    return {"pk": {"S": f"MSG#SM{n:03d}"}, "sk": {"S": "MSG"}}


def item(n: int) -> dict[str, Any]:
    return {**key(n), "body": {"S": f"message {n}"}}


def index_item(n: int) -> dict[str, Any]:
    return {**key(n), "gsi1pk": {"S": "ACCOUNT#acme#MESSAGES"}, "gsi1sk": {"S": f"t{n:03d}"}}


@pytest.fixture
def stubbed() -> Any:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_items_keep_the_index_order_whatever_order_dynamodb_answers_in(stubbed: Any) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "batch_get_item",
        {"Responses": {TABLE: [item(3), item(1), item(2)]}},
        {"RequestItems": {TABLE: {"Keys": [key(2), key(3), key(1)]}}},
    )
    assert items_by_key(client, TABLE, [key(2), key(3), key(1)]) == [item(2), item(3), item(1)]


def test_an_item_gone_since_the_index_was_read_is_left_out(stubbed: Any) -> None:
    client, stubber = stubbed
    stubber.add_response("batch_get_item", {"Responses": {TABLE: [item(1)]}})
    assert items_by_key(client, TABLE, [key(1), key(2)]) == [item(1)]


def test_unprocessed_keys_are_asked_again(stubbed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client, stubber = stubbed
    pauses: list[float] = []
    monkeypatch.setattr(index_reads.time, "sleep", pauses.append)
    stubber.add_response(
        "batch_get_item",
        {"Responses": {TABLE: [item(1)]}, "UnprocessedKeys": {TABLE: {"Keys": [key(2)]}}},
    )
    stubber.add_response(
        "batch_get_item",
        {"Responses": {TABLE: [item(2)]}},
        {"RequestItems": {TABLE: {"Keys": [key(2)]}}},
    )
    assert items_by_key(client, TABLE, [key(1), key(2)]) == [item(1), item(2)]
    assert len(pauses) == 1


def test_keys_left_unprocessed_raise_a_transient_error(
    stubbed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = stubbed
    monkeypatch.setattr(index_reads.time, "sleep", lambda seconds: None)
    for _ in range(6):
        stubber.add_response(
            "batch_get_item", {"Responses": {}, "UnprocessedKeys": {TABLE: {"Keys": [key(1)]}}}
        )
    with pytest.raises(ClientError) as raised:
        items_by_key(client, TABLE, [key(1)])
    assert is_transient(raised.value)


def test_more_than_a_batch_of_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 100"):
        items_by_key(object(), TABLE, [key(n) for n in range(101)])  # type: ignore[arg-type]


def test_pages_are_read_in_batches_of_at_most_100(stubbed: Any) -> None:
    client, stubber = stubbed
    page = {"Items": [index_item(n) for n in range(150)]}
    stubber.add_response(
        "batch_get_item",
        {"Responses": {TABLE: [item(n) for n in range(100)]}},
        {"RequestItems": {TABLE: {"Keys": [key(n) for n in range(100)]}}},
    )
    stubber.add_response(
        "batch_get_item",
        {"Responses": {TABLE: [item(n) for n in range(100, 150)]}},
        {"RequestItems": {TABLE: {"Keys": [key(n) for n in range(100, 150)]}}},
    )
    assert list(indexed_items(client, TABLE, [page])) == [item(n) for n in range(150)]
