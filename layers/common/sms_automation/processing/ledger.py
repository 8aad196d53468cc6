"""One record per side-effecting step of a message: the idempotency ledger.

A step is *claimed* (``started``) with a conditional put before its side effect, and *finished*
(``done`` / ``failed``) after it. A redelivered message finds the finished record and gets the
recorded outcome back instead of a second SMS. A claim with no finish means the previous
attempt died mid-step: the port decides what that means (see ``port``). A claim is *released*
(deleted) only when the effect certainly did not happen, so the next attempt may perform it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sms_automation import keys
from sms_automation.adapters.message_store import from_attributes, to_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class StepState(StrEnum):
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StepEntry:
    step_id: str
    kind: str
    state: StepState
    started_at: str
    finished_at: str = ""
    detail: str = ""
    variables: Mapping[str, Any] = field(default_factory=dict)
    resource_sid: str = ""
    """The Twilio SID (SM..., CA...) the step created, when it created one."""
    attempts: int = 1


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
    )


class DynamoStepLedger:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def claim(self, message_sid: str, step_id: str, kind: str, now: str) -> StepEntry | None:
        """Claim the step for this attempt: ``None`` when claimed, else the existing record."""
        item = {
            **keys.step_key(message_sid, step_id),
            "kind": keys.KIND_STEP,
            "message_sid": message_sid,
            "step_id": step_id,
            "step_kind": kind,
            "state": StepState.STARTED.value,
            "started_at": now,
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
                return self.claim(message_sid, step_id, kind, now)
            return existing
        return None

    def reclaim(self, message_sid: str, entry: StepEntry, now: str) -> None:
        """Take over a claim left ``started`` by an attempt that died (counts the attempts)."""
        self._client.update_item(
            TableName=self._table,
            Key=to_attributes(keys.step_key(message_sid, entry.step_id)),
            UpdateExpression="SET #started = :now, #attempts = #attempts + :one",
            ConditionExpression="#state = :started AND #started = :seen",
            ExpressionAttributeNames={
                "#state": "state",
                "#started": "started_at",
                "#attempts": "attempts",
            },
            ExpressionAttributeValues=to_attributes(
                {":now": now, ":one": 1, ":started": "started", ":seen": entry.started_at}
            ),
        )

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

    def release(self, message_sid: str, step_id: str) -> None:
        """Forget a claim whose effect certainly did not happen (only while still started)."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_attributes(keys.step_key(message_sid, step_id)),
                ConditionExpression="#state = :started",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_attributes({":started": "started"}),
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
