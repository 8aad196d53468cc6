"""Run records in the app table (``processing.ports.RunStore``): the first attempt's put pins
the trigger version and time zone (conditional on no record), a later attempt counts itself."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sms_automation import keys
from sms_automation.adapters.dynamo_json import from_attributes, to_attributes
from sms_automation.processing.runs import Run

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def run_from_item(item: Mapping[str, Any]) -> Run:
    return Run(
        message_sid=item["message_sid"],
        account=item["account"],
        status=item["status"],
        trigger_version=int(item.get("trigger_version", 0)),
        fingerprint=item.get("fingerprint", ""),
        started_at=item.get("started_at", ""),
        finished_at=item.get("finished_at", ""),
        attempts=int(item.get("attempts", 1)),
        matched=tuple(item.get("matched", ())),
        diagnostics=tuple(item.get("diagnostics", ())),
        paused_at=item.get("paused_at", ""),
        timezone=item.get("timezone", ""),
    )


class DynamoRunStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def get(self, message_sid: str) -> Run | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes(keys.run_key(message_sid)),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return run_from_item(from_attributes(item)) if item else None

    def get_many(self, message_sids: Sequence[str]) -> dict[str, Run]:
        """The run records of these messages or runs that have one (BatchGetItem, 100 a call;
        keys DynamoDB leaves unprocessed are asked again)."""
        found: dict[str, Run] = {}
        for batch in itertools.batched(dict.fromkeys(message_sids), 100):
            run_keys = [to_attributes(keys.run_key(sid)) for sid in batch]
            pending: Any = {self._table: {"Keys": run_keys, "ConsistentRead": True}}
            while pending:
                response = self._client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self._table, []):
                    run = run_from_item(from_attributes(item))
                    found[run.message_sid] = run
                pending = response.get("UnprocessedKeys") or None
        return found

    def start(
        self,
        message_sid: str,
        account: str,
        *,
        trigger_version: int,
        fingerprint: str,
        now: str,
        status: str = "running",
        timezone: str = "",
    ) -> Run:
        """Pin the trigger version and time zone (first attempt wins); a later attempt counts
        itself."""
        item = {
            **keys.run_key(message_sid),
            "kind": keys.KIND_RUN,
            "message_sid": message_sid,
            "account": account,
            "status": status,
            "trigger_version": trigger_version,
            "fingerprint": fingerprint,
            "started_at": now,
            "attempts": 1,
            **({"timezone": timezone} if timezone else {}),
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return self._count_attempt(message_sid)
        return run_from_item(item)

    def _count_attempt(self, message_sid: str) -> Run:
        response = self._client.update_item(
            TableName=self._table,
            Key=to_attributes(keys.run_key(message_sid)),
            UpdateExpression="SET #attempts = #attempts + :one",
            ExpressionAttributeNames={"#attempts": "attempts"},
            ExpressionAttributeValues=to_attributes({":one": 1}),
            ReturnValues="ALL_NEW",
        )
        return run_from_item(from_attributes(response["Attributes"]))

    def finish(
        self,
        message_sid: str,
        *,
        status: str,
        now: str,
        matched: Sequence[str],
        diagnostics: Sequence[Mapping[str, Any]],
        paused_at: str | None,
    ) -> Run:
        """The finished record from the update's own answer (``ALL_NEW`` costs no read)."""
        response = self._client.update_item(
            TableName=self._table,
            Key=to_attributes(keys.run_key(message_sid)),
            UpdateExpression=(
                "SET #status = :status, #finished = :now, #matched = :matched, "
                "#diagnostics = :diagnostics, #paused = :paused"
            ),
            ExpressionAttributeNames={
                "#status": "status",
                "#finished": "finished_at",
                "#matched": "matched",
                "#diagnostics": "diagnostics",
                "#paused": "paused_at",
            },
            ExpressionAttributeValues=to_attributes(
                {
                    ":status": status,
                    ":now": now,
                    ":matched": list(matched),
                    ":diagnostics": [dict(d) for d in diagnostics],
                    ":paused": paused_at or "",
                }
            ),
            ReturnValues="ALL_NEW",
        )
        return run_from_item(from_attributes(response["Attributes"]))
