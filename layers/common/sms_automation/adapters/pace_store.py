"""The senders' send rate buckets in the app table (``keys.send_pace_key``): one small item
per account and sender, and one per bulk send holding a place in the sender's queue.

Implements ``processing.pacing.PaceStore``: a consistent ``GetItem``, then a ``PutItem``
conditional on the version read (or on no item yet), so of two Lambdas racing for the last
segment exactly one takes it. Any AWS failure is ``PacingUnavailable``: nothing was sent, the
step is retried. Items expire (TTL) a day after they were last due, so idle senders cost nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sms_automation import keys
from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code
from sms_automation.adapters.dynamo_json import key_attributes
from sms_automation.adapters.versioned_items import put_if_version
from sms_automation.processing.pacing import Bucket, PacingUnavailable, Sender

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


class DynamoPaceStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def read(self, sender: Sender) -> Bucket:
        item = self._get(keys.send_pace_key(sender.account, sender.sender))
        if not item:
            return Bucket()
        return Bucket(
            tat=int(item["tat"]["N"]),
            queue=int(item["queue"]["N"]),
            factor=float(item["factor"]["N"]),
            slowed=int(item["slowed"]["N"]),
            version=int(item["version"]["N"]),
        )

    def write(self, sender: Sender, bucket: Bucket, *, seen: int, expires_at: int) -> bool:
        item: dict[str, AttributeValueTypeDef] = {
            **key_attributes(keys.send_pace_key(sender.account, sender.sender)),
            "kind": {"S": keys.KIND_SEND_PACE},
            "tat": {"N": str(bucket.tat)},
            "queue": {"N": str(bucket.queue)},
            "factor": {"N": repr(bucket.factor)},
            "slowed": {"N": str(bucket.slowed)},
            keys.EXPIRES_AT: {"N": str(expires_at)},
        }
        try:
            # No item yet (seen 0), or still the version read: nobody took from it meanwhile.
            return put_if_version(self._client, self._table, item, seen=seen)
        except AWS_ERRORS as error:
            raise PacingUnavailable(f"could not pace the send: {error_code(error)}") from None

    def held_place(self, sender: Sender, place: str) -> int | None:
        item = self._get(keys.send_pace_hold_key(sender.account, sender.sender, place))
        if not item:
            return None
        return int(item["at"]["N"]) if "at" in item else 0  # a hold from before "at": due

    def hold(self, sender: Sender, place: str, *, at_ms: int, expires_at: int) -> None:
        item: dict[str, AttributeValueTypeDef] = {
            **key_attributes(keys.send_pace_hold_key(sender.account, sender.sender, place)),
            "kind": {"S": keys.KIND_SEND_PACE_HOLD},
            "at": {"N": str(at_ms)},
            keys.EXPIRES_AT: {"N": str(expires_at)},
        }
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except AWS_ERRORS as error:
            detail = f"could not hold the send's place: {error_code(error)}"
            raise PacingUnavailable(detail) from None

    def _get(self, key: dict[str, str]) -> dict[str, AttributeValueTypeDef] | None:
        try:
            response = self._client.get_item(
                TableName=self._table, Key=key_attributes(key), ConsistentRead=True
            )
        except AWS_ERRORS as error:
            raise PacingUnavailable(f"could not read the send rate: {error_code(error)}") from None
        return response.get("Item") or None
