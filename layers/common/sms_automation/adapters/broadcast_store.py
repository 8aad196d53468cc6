"""Broadcast records on the app table (see ``keys``): stored once, read, moved between states."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sms_automation import keys
from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code, is_transient
from sms_automation.adapters.dynamo_json import from_attributes, serialize, to_attributes
from sms_automation.automations.service import RunStoreUnavailable
from sms_automation.broadcasts.service import Status

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoBroadcastStore:
    """``broadcasts.service.BroadcastStore``; ``RunStoreUnavailable`` when DynamoDB fails for
    now (the engine retries, the CLI says try again), any other error as botocore raised it."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def put_new(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(dict(record)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except AWS_ERRORS as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return self.get(str(record["broadcast_id"]))
            _raise_unavailable_if_transient(error)
            raise
        return None

    def get(self, broadcast_id: str) -> dict[str, Any] | None:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_attributes(keys.broadcast_key(broadcast_id)),
                ConsistentRead=True,
            )
        except AWS_ERRORS as error:
            _raise_unavailable_if_transient(error)
            raise
        item = response.get("Item")
        return from_attributes(item) if item else None

    def transition(
        self, broadcast_id: str, *, to: Status, allowed: Iterable[Status], **fields: Any
    ) -> dict[str, Any] | None:
        values = {"status": to.value, **fields}
        names = {f"#f{i}": name for i, name in enumerate(values)}
        sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(values)))
        attribute_values = {f":v{i}": serialize(value) for i, value in enumerate(values.values())}
        states = sorted(status.value for status in allowed)
        for i, state in enumerate(states):
            attribute_values[f":s{i}"] = {"S": state}
        allowed_list = ", ".join(f":s{i}" for i in range(len(states)))
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_attributes(keys.broadcast_key(broadcast_id)),
                UpdateExpression=f"SET {sets}",
                ConditionExpression=f"attribute_exists(pk) AND #f0 IN ({allowed_list})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=attribute_values,
                ReturnValues="ALL_NEW",
            )
        except AWS_ERRORS as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return None
            _raise_unavailable_if_transient(error)
            raise
        return from_attributes(response["Attributes"])


def _raise_unavailable_if_transient(error: BaseException) -> None:
    if is_transient(error):
        raise RunStoreUnavailable("the broadcast store is unavailable; try again") from error
