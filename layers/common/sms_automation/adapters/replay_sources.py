"""What a replay reads from the app table: a message's item as stored now
(``dead_letters.ports.StoredMessages``; as a stream record again for the processor's retry queue,
``processing.ports.StoredRecords``) and an account's messages by receive time
(``dead_letters.ports.ReceivedMessages``, on ``gsi1``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sms_automation import keys
from sms_automation.adapters.dynamo_json import key_attributes, string_value
from sms_automation.dead_letters.events import stream_record
from sms_automation.dead_letters.ports import StoredMessage
from sms_automation.edge.timestamps import utc_timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_AFTER_EVERY_SID = "#\uffff"  # sorts after "{received_at}#{sid}" for any sid


def stored_item(dynamodb: DynamoDBClient, table_name: str, message_sid: str) -> dict[str, Any]:
    """The message's (or automation run's) item as stored now (DynamoDB JSON); ``{}`` when it
    is gone."""
    return dict(
        dynamodb.get_item(
            TableName=table_name,
            Key=key_attributes(keys.message_key(message_sid)),
            ConsistentRead=True,
        ).get("Item")
        or {}
    )


class DynamoStoredMessages:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def get(self, message_sid: str) -> StoredMessage | None:
        item = stored_item(self._client, self._table, message_sid)
        return StoredMessage(string_value(item, "account"), item) if item else None


class StoredStreamRecords:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def replay_record(
        self, message_sid: str, *, sequence_number: str, stream_arn: str, now: datetime
    ) -> dict[str, Any] | None:
        item = stored_item(self._client, self._table, message_sid)
        if not item:
            return None
        return stream_record(item, sequence_number=sequence_number, stream_arn=stream_arn, now=now)


class DynamoReceivedMessages:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def received_between(self, account: str, since: datetime, until: datetime) -> Iterator[str]:
        for index_pk in (
            keys.account_messages_index_pk(account),
            keys.account_runs_index_pk(account),
        ):
            pages = self._client.get_paginator("query").paginate(
                TableName=self._table,
                IndexName=keys.GSI1,
                KeyConditionExpression="#pk = :pk AND #sk BETWEEN :since AND :until",
                ExpressionAttributeValues={
                    ":pk": {"S": index_pk},
                    ":since": {"S": utc_timestamp(since)},
                    ":until": {"S": utc_timestamp(until) + _AFTER_EVERY_SID},
                },
                # The index holds keys only: the message (or run) id is its table key's.
                ProjectionExpression="#table_pk",
                ExpressionAttributeNames={
                    "#pk": keys.GSI1_PK,
                    "#sk": keys.GSI1_SK,
                    "#table_pk": keys.PK,
                },
            )
            for page in pages:
                for item in page.get("Items", []):
                    yield keys.message_sid_of(item[keys.PK]["S"])
