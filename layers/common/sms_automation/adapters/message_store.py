"""Inbound messages in DynamoDB: written once (conditional put keyed by MessageSid), read back
as their readers see them (``inbound.message.message_view``: typed fields derived on read)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sms_automation import keys
from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code, is_transient
from sms_automation.adapters.dynamo_json import from_attributes, to_attributes
from sms_automation.adapters.index_reads import indexed_items
from sms_automation.webhooks.inbound_message import message_view
from sms_automation.webhooks.rejections import StorageUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoMessageStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def put_new(self, item: dict[str, Any]) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except AWS_ERRORS as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            if is_transient(error):  # throttled, 5xx, no connection: Twilio's retry may store it
                raise StorageUnavailable("the message store is unavailable; try again") from error
            raise  # denied, no table, invalid: a 500 whose line names the error, not "try again"
        return True

    def get(self, message_sid: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_attributes(keys.message_key(message_sid))
        )
        attributes = response.get("Item")
        return message_view(from_attributes(attributes)) if attributes else None

    def list_for_account(self, account: str, limit: int = 50) -> Iterator[dict[str, Any]]:
        """Newest first."""
        items = newest_first(
            self._client, self._table, keys.account_messages_index_pk(account), limit
        )
        yield from (message_view(item) for item in itertools.islice(items, limit))


def newest_first(
    client: DynamoDBClient,
    table_name: str,
    index_pk: str,
    page_size: int,
    *,
    index: str = keys.GSI1,
    before: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The items under ``index_pk`` on ``index`` (``gsi1`` or ``gsi2``: their sort keys start
    with a timestamp), newest first, read page by page as the caller goes on (the index holds
    keys only: ``index_reads``); with ``before``, only those whose sort key sorts before it."""
    condition = "#pk = :pk"
    names = {"#pk": keys.INDEX_PARTITION_KEYS[index]}
    values: dict[str, Any] = {":pk": {"S": index_pk}}
    if before is not None:
        condition += " AND #sk < :before"
        names["#sk"] = keys.INDEX_SORT_KEYS[index]
        values[":before"] = {"S": before}
    pages = client.get_paginator("query").paginate(
        TableName=table_name,
        IndexName=index,
        KeyConditionExpression=condition,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ScanIndexForward=False,
        PaginationConfig={"PageSize": max(1, min(page_size, 100))},
    )
    for attributes in indexed_items(client, table_name, pages):
        yield from_attributes(attributes)
