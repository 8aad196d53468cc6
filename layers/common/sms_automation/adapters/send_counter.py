"""The send guard's lanes in the app table (``keys.send_lane_key``): one small item per
account, sender and contact, holding the slots of the sends counted in the window.

Implements ``send_guard.SendCounter``: a consistent ``GetItem``, then a ``PutItem`` conditional
on the version read (or on no item yet), so two Lambdas counting on one lane at the same moment
cannot both take the last slot. Any AWS failure is ``CounterUnavailable``: nothing was sent, the
step is retried. The item expires (TTL) a minute after its window, so idle lanes cost nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sms_automation import keys
from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code
from sms_automation.adapters.dynamo_json import key_attributes
from sms_automation.adapters.versioned_items import put_if_version
from sms_automation.send_guard import CounterUnavailable, Lane, LaneCount

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


def _key(lane: Lane) -> dict[str, AttributeValueTypeDef]:
    return key_attributes(keys.send_lane_key(lane.account, lane.sender, lane.contact))


class DynamoSendCounter:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def read(self, lane: Lane) -> LaneCount:
        try:
            response = self._client.get_item(
                TableName=self._table, Key=_key(lane), ConsistentRead=True
            )
        except AWS_ERRORS as error:
            raise CounterUnavailable(
                f"could not read the send count: {error_code(error)}"
            ) from None
        item = response.get("Item")
        if not item:
            return LaneCount()
        slots = {name: int(value["N"]) for name, value in item["slots"]["M"].items()}
        return LaneCount(slots, int(item["version"]["N"]))

    def write(self, lane: Lane, slots: Mapping[str, int], *, seen: int, expires_at: int) -> bool:
        item: dict[str, AttributeValueTypeDef] = {
            **_key(lane),
            "kind": {"S": keys.KIND_SEND_LANE},
            "slots": {"M": {name: {"N": str(at)} for name, at in slots.items()}},
            keys.EXPIRES_AT: {"N": str(expires_at)},
        }
        try:
            # No item yet (seen 0), or still the version read: nobody counted meanwhile.
            return put_if_version(self._client, self._table, item, seen=seen)
        except AWS_ERRORS as error:
            raise CounterUnavailable(f"could not count the send: {error_code(error)}") from None
