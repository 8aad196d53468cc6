"""Small items rewritten whole under optimistic concurrency (the send guard's lanes, the
senders' pace buckets): read with a consistent ``GetItem``, compute, then ``PutItem`` on
condition that the item is still the version read (or, version 0, that there is none yet), so
of two Lambdas racing on one item exactly one write lands and the other reads again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

from sms_automation import keys

VERSION = "version"


def put_if_version(client: DynamoDBClient, table: str, item: dict[str, Any], *, seen: int) -> bool:
    """Write ``item`` as version ``seen + 1``; False when another writer moved it first.

    AWS failures other than the failed condition propagate for the caller to name."""
    try:
        client.put_item(
            TableName=table,
            Item={**item, VERSION: {"N": str(seen + 1)}},
            ConditionExpression="attribute_not_exists(#pk) OR #version = :seen",
            ExpressionAttributeNames={"#pk": keys.PK, "#version": VERSION},
            ExpressionAttributeValues={":seen": {"N": str(seen)}},
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True
