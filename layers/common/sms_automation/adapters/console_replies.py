"""The console's replies in the app table (``console.writes.ReplyStore``; keys
``keys.console_reply_key`` and the contact's replies on ``gsi1``): each stored once, by a
conditional put on its id; a contact's latest read newest first through the keys-only index,
or those from a sort key on (a thread's ``since`` poll), always in the contact's own partition.
No TTL: a reply's text is kept as long as the inbound messages are."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_automation import keys
from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code
from sms_automation.adapters.dynamo_json import from_attributes, to_attributes
from sms_automation.adapters.index_reads import items_by_key
from sms_automation.console.replies import ConsoleReply

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _reply(item: dict[str, Any]) -> ConsoleReply:
    return ConsoleReply(
        reply_id=str(item["reply_id"]),
        account=str(item["account"]),
        contact=str(item["contact"]),
        from_=str(item["from_number"]),
        body=str(item["body"]),
        by=str(item["by"]),
        sent_at=str(item["sent_at"]),
    )


class DynamoConsoleReplies:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def create(self, reply: ConsoleReply) -> tuple[ConsoleReply, bool]:
        item = {
            **keys.console_reply_key(reply.reply_id),
            keys.GSI1_PK: keys.contact_replies_index_pk(reply.account, reply.contact),
            keys.GSI1_SK: f"{reply.sent_at}#{reply.reply_id}",
            "kind": keys.KIND_CONSOLE_REPLY,
            "reply_id": reply.reply_id,
            "account": reply.account,
            "contact": reply.contact,
            "from_number": reply.from_,
            "body": reply.body,
            "by": reply.by,
            "sent_at": reply.sent_at,
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except AWS_ERRORS as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            stored = self._client.get_item(
                TableName=self._table,
                Key=to_attributes(keys.console_reply_key(reply.reply_id)),
                ConsistentRead=True,
            ).get("Item")
            if stored is None or from_attributes(stored).get("kind") != keys.KIND_CONSOLE_REPLY:
                raise
            return _reply(from_attributes(stored)), False
        return reply, True

    def for_contact(self, account: str, contact: str, limit: int) -> list[ConsoleReply]:
        return self._query(account, contact, None, limit)

    def since(self, account: str, contact: str, start: str, limit: int) -> list[ConsoleReply]:
        return self._query(account, contact, start, limit)

    def _query(
        self, account: str, contact: str, start: str | None, limit: int
    ) -> list[ConsoleReply]:
        """Newest first; from ``start`` on (a sort key, inside the path's own partition):
        oldest first."""
        condition = "#pk = :pk" if start is None else "#pk = :pk AND #sk >= :start"
        names = {"#pk": keys.GSI1_PK} | ({} if start is None else {"#sk": keys.GSI1_SK})
        values = {":pk": {"S": keys.contact_replies_index_pk(account, contact)}}
        if start is not None:
            values[":start"] = {"S": start}
        response = self._client.query(
            TableName=self._table,
            IndexName=keys.GSI1,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ScanIndexForward=start is not None,
            Limit=max(1, min(limit, 100)),
        )
        found = items_by_key(
            self._client,
            self._table,
            [{keys.PK: i[keys.PK], keys.SK: i[keys.SK]} for i in response.get("Items", [])],
        )
        return [_reply(from_attributes(item)) for item in found]
