"""Takeovers in the app table (``takeover.Takeovers``; key ``keys.takeover_key``): one item per
account and contact, replaced by a new takeover, deleted at hand-back. ``expires_at`` (the
table's TTL) is set past ``until`` so DynamoDB tidies up; whether a takeover is in force is
decided by ``Takeover.active``, not by the TTL (which may lag by days)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation import keys
from sms_automation.adapters.dynamo_json import from_attributes, to_attributes
from sms_automation.edge.timestamps import parse_timestamp
from sms_automation.takeover import Takeover

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TIDY_AFTER_SECONDS = 24 * 3600


class DynamoTakeoverStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def get(self, account: str, contact: str) -> Takeover | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes(keys.takeover_key(account, contact)),
            ConsistentRead=True,
        )
        return _takeover(response.get("Item"))

    def put(self, takeover: Takeover) -> None:
        expires_at = int(parse_timestamp(takeover.until).timestamp()) + TIDY_AFTER_SECONDS
        item = {
            **keys.takeover_key(takeover.account, takeover.contact),
            "kind": keys.KIND_TAKEOVER,
            "account": takeover.account,
            "contact": takeover.contact,
            "by": takeover.by,
            "since": takeover.since,
            "until": takeover.until,
            keys.EXPIRES_AT: expires_at,
        }
        self._client.put_item(TableName=self._table, Item=to_attributes(item))

    def delete(self, account: str, contact: str) -> Takeover | None:
        """The takeover removed (``ALL_OLD``: what this very delete removed, so of two
        hand-backs at the same moment exactly one gets it), None when there was none."""
        response = self._client.delete_item(
            TableName=self._table,
            Key=to_attributes(keys.takeover_key(account, contact)),
            ReturnValues="ALL_OLD",
        )
        return _takeover(response.get("Attributes"))


def _takeover(item: dict[str, Any] | None) -> Takeover | None:
    if not item:
        return None
    found = from_attributes(item)
    return Takeover(
        account=str(found["account"]),
        contact=str(found["contact"]),
        by=str(found["by"]),
        since=str(found["since"]),
        until=str(found["until"]),
    )
