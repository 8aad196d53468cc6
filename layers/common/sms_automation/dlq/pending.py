"""Inbound messages (and automation runs) of an account received (started) in a time window
whose processing never finished.

For batches the stream no longer holds (older than 24 hours): the messages stay in the table,
indexed by account and receive time (``gsi1``), and each one's run record tells whether the
processor finished it (completed, stopped, no_triggers). A replay of a finished one would do
nothing anyway; they are skipped so the report shows only what needed a replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from sms_automation import keys
from sms_automation.dlq.stream import MessageRef
from sms_automation.processing.runs import DynamoRunStore, iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_AFTER_EVERY_SID = "#\uffff"  # sorts after "{received_at}#{sid}" for any sid


def unfinished_messages(
    table_name: str, dynamodb: DynamoDBClient, account: str, *, since: datetime, until: datetime
) -> Iterator[MessageRef]:
    """Oldest first; ``since`` and ``until`` are inclusive (millisecond precision)."""
    runs = DynamoRunStore(table_name, dynamodb)
    for index_pk in (keys.account_messages_index_pk(account), keys.account_runs_index_pk(account)):
        pages = dynamodb.get_paginator("query").paginate(
            TableName=table_name,
            IndexName=keys.GSI1,
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :since AND :until",
            ExpressionAttributeNames={"#pk": keys.GSI1_PK, "#sk": keys.GSI1_SK},
            ExpressionAttributeValues={
                ":pk": {"S": index_pk},
                ":since": {"S": iso(since)},
                ":until": {"S": iso(until) + _AFTER_EVERY_SID},
            },
            ProjectionExpression="message_sid, account, received_at",
        )
        for page in pages:
            for item in page.get("Items", []):
                sid = item["message_sid"]["S"]
                run = runs.get(sid)
                if run is None or not run.finished:
                    yield MessageRef(sid, account)
