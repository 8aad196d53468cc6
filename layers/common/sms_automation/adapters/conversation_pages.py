"""An account's conversations one bounded page at a time, for the console's Conversations page
(``console.conversations.ConversationListing``): ``gsi1`` (keys only) under the account's own
partition, then the items by key (``index_reads``). A page resumes after a position the caller
gives, never after a table key it gives, so no cursor starts a read in another account's
partition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation import keys
from sms_automation.adapters.conversation_store import conversation_from_item
from sms_automation.adapters.dynamo_json import from_attributes, key_attributes
from sms_automation.adapters.index_reads import items_by_key
from sms_automation.console.conversations import ConversationPage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoConversationPages:
    """An account's conversations (``gsi1``: ``ACCOUNT#{name}#WAITS``, sorted by
    ``{started_at}#{MessageSid}#{step id}``), newest first, resuming after a position under the
    account's own partition."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def page(self, account: str, *, after: str | None, size: int) -> ConversationPage:
        partition = keys.account_conversations_index_pk(account)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": keys.GSI1,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": keys.GSI1_PK},
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ScanIndexForward": False,
            "Limit": max(1, min(size, 100)),
        }
        if after is not None:
            _, sid, step_id = after.split("#", 2)
            start = {keys.GSI1_PK: partition, keys.GSI1_SK: after,
                     **keys.conversation_key(sid, step_id)}  # fmt: skip
            request["ExclusiveStartKey"] = key_attributes(start)
        response = self._client.query(**request)
        index_items = response.get("Items", [])
        item_keys = [{keys.PK: i[keys.PK], keys.SK: i[keys.SK]} for i in index_items]
        found = items_by_key(self._client, self._table, item_keys)
        items = [(conversation_from_item(from_attributes(item)), _position(item)) for item in found]
        more = "LastEvaluatedKey" in response and index_items
        end_key = index_items[-1][keys.GSI1_SK]["S"] if more else None
        return ConversationPage(items=items, end_key=end_key)


def _position(item: dict[str, Any]) -> str:
    return str(item[keys.GSI1_SK]["S"])
