"""The step ledger in the app table (``processing.ports.StepLedger``; the rules are in
``processing.ledger``): every claim, take-over, release and finish is a conditional write, so of
two attempts at the same moment exactly one holds a step."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sms_automation import keys
from sms_automation.adapters.dynamo_json import from_attributes, to_attributes
from sms_automation.processing.ledger import StepEntry, StepState
from sms_automation.processing.ports import ClaimLost

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _conditional_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def entry_from_item(item: Mapping[str, Any]) -> StepEntry:
    return StepEntry(
        step_id=item["step_id"],
        kind=item["step_kind"],
        state=StepState(item["state"]),
        started_at=item["started_at"],
        finished_at=item.get("finished_at", ""),
        detail=item.get("detail", ""),
        variables=json.loads(item.get("variables_json") or "{}"),
        resource_sid=item.get("resource_sid", ""),
        attempts=int(item.get("attempts", 1)),
        lease_until=item.get("lease_until", ""),
        claimed_at=item.get("claimed_at") or item["started_at"],
        unknown_since=item.get("unknown_since", ""),
        looks=int(item.get("looks", 0)),
    )


class DynamoStepLedger:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def claim(
        self, message_sid: str, step_id: str, kind: str, now: str, lease_until: str
    ) -> StepEntry | None:
        """Claim the step for this attempt: ``None`` when claimed, else the existing record."""
        item = {
            **keys.step_key(message_sid, step_id),
            "kind": keys.KIND_STEP,
            "message_sid": message_sid,
            "step_id": step_id,
            "step_kind": kind,
            "state": StepState.STARTED.value,
            "started_at": now,
            "claimed_at": now,
            "lease_until": lease_until,
            "attempts": 1,
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise
            existing = self.get(message_sid, step_id)
            if existing is None:  # released between the two calls: try once more
                return self.claim(message_sid, step_id, kind, now, lease_until)
            return existing
        return None

    def take_over(self, message_sid: str, entry: StepEntry, now: str, lease_until: str) -> bool:
        """Take over a ``started`` claim whose lease ran out (counts the attempts): True when
        this attempt won it, False when another attempt took it first (or it was finished)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_attributes(keys.step_key(message_sid, entry.step_id)),
                UpdateExpression=(
                    "SET #started = :now, #lease = :lease, #attempts = #attempts + :one"
                ),
                ConditionExpression="#state = :started AND #started = :seen",
                ExpressionAttributeNames={
                    "#state": "state",
                    "#started": "started_at",
                    "#lease": "lease_until",
                    "#attempts": "attempts",
                },
                ExpressionAttributeValues=to_attributes(
                    {
                        ":now": now,
                        ":lease": lease_until,
                        ":one": 1,
                        ":started": "started",
                        ":seen": entry.started_at,
                    }
                ),
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise
            return False
        return True

    def record_unknown(
        self, message_sid: str, step_id: str, *, held: str, since: str, now: str, detail: str
    ) -> None:
        """Keep the claim (held since ``held``) with its outcome unknown since ``since``: one
        more look, and the lease given up so that the next attempt looks again at once."""
        try:
            self._update_unknown(
                message_sid, step_id, held=held, since=since, now=now, detail=detail
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise
            raise ClaimLost(f"step {step_id} is no longer held since {held}") from error

    def _update_unknown(
        self, message_sid: str, step_id: str, *, held: str, since: str, now: str, detail: str
    ) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=to_attributes(keys.step_key(message_sid, step_id)),
            UpdateExpression=(
                "SET #unknown = :since, #looks = if_not_exists(#looks, :zero) + :one, "
                "#lease = :now, #detail = :detail"
            ),
            ConditionExpression="#state = :started AND #started = :held",
            ExpressionAttributeNames={
                "#unknown": "unknown_since",
                "#looks": "looks",
                "#lease": "lease_until",
                "#detail": "detail",
                "#state": "state",
                "#started": "started_at",
            },
            ExpressionAttributeValues=to_attributes(
                {
                    ":since": since,
                    ":zero": 0,
                    ":one": 1,
                    ":now": now,
                    ":detail": detail,
                    ":started": "started",
                    ":held": held,
                }
            ),
        )

    def abandon(self, message_sid: str, step_id: str, *, held: str, now: str) -> None:
        """End the lease of a claim held since ``held`` now: this attempt is failing, and the
        next one may look at the step at once. Nothing when the claim is no longer ours."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_attributes(keys.step_key(message_sid, step_id)),
                UpdateExpression="SET #lease = :now",
                ConditionExpression="#state = :started AND #started = :held",
                ExpressionAttributeNames={
                    "#lease": "lease_until",
                    "#state": "state",
                    "#started": "started_at",
                },
                ExpressionAttributeValues=to_attributes(
                    {":now": now, ":started": "started", ":held": held}
                ),
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise

    def finish(
        self,
        message_sid: str,
        step_id: str,
        state: StepState,
        *,
        now: str,
        detail: str = "",
        variables: Mapping[str, Any] | None = None,
        resource_sid: str = "",
    ) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=to_attributes(keys.step_key(message_sid, step_id)),
            UpdateExpression=(
                "SET #state = :state, #finished = :now, #detail = :detail, "
                "#variables = :variables, #sid = :sid"
            ),
            ExpressionAttributeNames={
                "#state": "state",
                "#finished": "finished_at",
                "#detail": "detail",
                "#variables": "variables_json",
                "#sid": "resource_sid",
            },
            ExpressionAttributeValues=to_attributes(
                {
                    ":state": state.value,
                    ":now": now,
                    ":detail": detail,
                    ":variables": json.dumps(dict(variables or {}), default=str),
                    ":sid": resource_sid,
                }
            ),
        )

    def release(self, message_sid: str, step_id: str, *, held: str) -> None:
        """Forget a claim whose effect certainly did not happen (only while still started, and
        still held since ``held`` by the attempt releasing it)."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_attributes(keys.step_key(message_sid, step_id)),
                ConditionExpression="#state = :started AND #started = :held",
                ExpressionAttributeNames={"#state": "state", "#started": "started_at"},
                ExpressionAttributeValues=to_attributes({":started": "started", ":held": held}),
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise

    def get(self, message_sid: str, step_id: str) -> StepEntry | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes(keys.step_key(message_sid, step_id)),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return entry_from_item(from_attributes(item)) if item else None

    def entries(self, message_sid: str) -> list[StepEntry]:
        """Every step record of a message, in step-id order (for the action log)."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_attributes(
                {":pk": keys.message_key(message_sid)[keys.PK], ":prefix": keys.STEP_SK_PREFIX}
            ),
        )
        return [
            entry_from_item(from_attributes(item))
            for page in pages
            for item in page.get("Items", [])
        ]
