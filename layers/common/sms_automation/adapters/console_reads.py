"""The console's reads on the app table (``console.reads`` ports): an account's message index
one bounded page at a time, the day's count, the day's counters (sent, failed), contacts'
opt-out state and open conversations.

The message index (``gsi1``, keys only: ``index_reads``) is queried under the account's own
partition key; a page resumes after a sort key the caller gives, never after a table key it
gives, so no cursor can start a read in another account's partition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from sms_automation import keys
from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation.adapters.dynamo_json import from_attributes, key_attributes
from sms_automation.adapters.index_reads import items_by_key
from sms_automation.console.reads import IndexPage
from sms_automation.daily_figures import FIGURES
from sms_automation.webhooks.inbound_message import message_view

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_COUNT_PAGES: Final = 20


class DynamoMessageIndex:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def page(
        self, account: str, *, after: str | None, since: str | None, until: str | None, size: int
    ) -> IndexPage:
        request = self._request(account, since, until)
        request["Limit"] = max(1, min(size, 100))
        if after is not None:
            partition = keys.account_messages_index_pk(account)
            sid = after.rpartition("#")[2]
            start = {keys.GSI1_PK: partition, keys.GSI1_SK: after, **keys.message_key(sid)}
            request["ExclusiveStartKey"] = key_attributes(start)
        response = self._client.query(**request)
        index_items = response.get("Items", [])
        item_keys = [{keys.PK: i[keys.PK], keys.SK: i[keys.SK]} for i in index_items]
        found = items_by_key(self._client, self._table, item_keys)
        items = [message_view(from_attributes(item)) for item in found]  # typed fields on read
        more = "LastEvaluatedKey" in response and index_items
        end_key = index_items[-1][keys.GSI1_SK]["S"] if more else None
        return IndexPage(items=items, end_key=end_key)

    def count(self, account: str, since: str, until: str) -> int:
        request = self._request(account, since, until)
        request["Select"] = "COUNT"
        total = 0
        for _ in range(MAX_COUNT_PAGES):
            response = self._client.query(**request)
            total += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return total

    def _request(self, account: str, since: str | None, until: str | None) -> dict[str, Any]:
        condition = "#pk = :pk"
        values: dict[str, Any] = {":pk": {"S": keys.account_messages_index_pk(account)}}
        if since or until:
            condition += " AND #sk BETWEEN :since AND :until"
            values[":since"] = {"S": since or "0"}
            values[":until"] = {"S": until or "~"}
        return {
            "TableName": self._table,
            "IndexName": keys.GSI1,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": keys.GSI1_PK, "#sk": keys.GSI1_SK}
            if (since or until)
            else {"#pk": keys.GSI1_PK},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }


class DynamoDayFigures:
    """The quarter hours' counters (``daily_figures``) of a day: one query of at most 100
    small items (a day of 23 to 25 hours), about 1 read unit."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def counts(self, account: str, since: str, until: str) -> dict[str, int]:
        totals: dict[str, int] = dict.fromkeys(FIGURES, 0)
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :since AND :until",
            "ExpressionAttributeNames": {"#pk": keys.PK, "#sk": keys.SK},
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.figures_pk(account)},
                ":since": {"S": since},
                ":until": {"S": until},
            },
        }
        for _ in range(MAX_COUNT_PAGES):
            response = self._client.query(**request)
            for item in response.get("Items", []):
                found = from_attributes(item)
                for figure in FIGURES:
                    totals[figure] += int(found.get(figure, 0))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return totals


class DynamoContactOptOut:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._contacts = DynamoContactStore(table_name, client)

    def opted_out(self, account: str, contact: str) -> bool:
        return any(state.opted_out for state in self._contacts.for_contact(account, contact))


class DynamoOpenConversations:
    """The conversations' adapter (and their model) is imported on first use: the console's
    first request, the inbox, counts none, and it is a good part of a cold start
    (bench/cold_start.py, console_api)."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def waiting(self, account: str, limit: int) -> int:
        from sms_automation.adapters.conversation_store import DynamoConversationStore

        conversations = DynamoConversationStore(self._table, self._client)
        return sum(1 for c in conversations.for_account(account, limit=limit) if c.waiting)
