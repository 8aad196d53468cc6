"""Contacts' opt-out states in the app table (keys: ``keys.contact_key``).

Written conditionally on the message time: a replayed message changes nothing, and an older
message never overwrites a newer state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sms_automation import keys
from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code
from sms_automation.adapters.dynamo_json import from_attributes, to_attributes
from sms_automation.adapters.index_reads import indexed_items
from sms_automation.opt_out import ContactState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _state(item: dict[str, Any]) -> ContactState:
    return ContactState(
        account=str(item["account"]),
        sender=str(item["sender"]),
        contact=str(item["contact"]),
        opted_out=bool(item["opted_out"]),
        keyword=str(item.get("keyword", "")),
        changed_at=str(item["changed_at"]),
        message_sid=str(item.get("message_sid", "")),
    )


class DynamoContactStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def get(self, account: str, sender: str, contact: str) -> ContactState | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes(keys.contact_key(account, sender, contact)),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _state(from_attributes(item)) if item else None

    def record(self, state: ContactState) -> bool:
        item = {
            **keys.contact_key(state.account, state.sender, state.contact),
            keys.GSI1_PK: keys.account_contacts_index_pk(state.account),
            keys.GSI1_SK: f"{state.contact}#{state.sender}",
            "kind": keys.KIND_CONTACT,
            "account": state.account,
            "sender": state.sender,
            "contact": state.contact,
            "opted_out": state.opted_out,
            "keyword": state.keyword,
            "changed_at": state.changed_at,
            "message_sid": state.message_sid,
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(pk) OR changed_at < :at",
                ExpressionAttributeValues={":at": {"S": state.changed_at}},
            )
        except AWS_ERRORS as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def list_for_account(self, account: str) -> Iterator[ContactState]:
        """By contact, then sender."""
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=keys.GSI1,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": keys.GSI1_PK},
            ExpressionAttributeValues={":pk": {"S": keys.account_contacts_index_pk(account)}},
        )
        for item in indexed_items(self._client, self._table, pages):
            yield _state(from_attributes(item))

    def for_contact(self, account: str, contact: str) -> list[ContactState]:
        return [state for state in self.list_for_account(account) if state.contact == contact]
