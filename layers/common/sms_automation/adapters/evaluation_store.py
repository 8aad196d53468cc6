"""Messages' evaluations in the app table (``processing.ports.EvaluationStore``): the first
attempt's put pins the trigger version and time zone (conditional on no record: a started
evaluation, or one that performed nothing, written finished), a later attempt counts itself."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sms_automation import keys
from sms_automation.adapters.dynamo_json import from_attributes, to_attributes
from sms_automation.processing.evaluations import EvaluationRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from sms_automation.conversations.model import RecordedReply


# The item keeps the format it had when evaluations were called "run records" (sort key ``RUN``,
# kind ``run``, the attribute names below): existing tables must still read.
def evaluation_from_item(item: Mapping[str, Any]) -> EvaluationRecord:
    return EvaluationRecord(
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


def _pinned(status: str, trigger_version: int, fingerprint: str, now: str) -> dict[str, Any]:
    """What the first write pins."""
    return {
        "status": status,
        "trigger_version": trigger_version,
        "fingerprint": fingerprint,
        "started_at": now,
    }


class DynamoEvaluationStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def get(self, message_sid: str) -> EvaluationRecord | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes(keys.evaluation_key(message_sid)),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return evaluation_from_item(from_attributes(item)) if item else None

    def evaluation_and_reply(
        self, message_sid: str
    ) -> tuple[EvaluationRecord | None, RecordedReply | None]:
        """The message's evaluation and what a conversation made of it, in one strongly
        consistent query of the message's partition (both items are small: one read unit,
        one round trip, where two reads cost 1.5 and two: docs/cost.md)."""
        partition, reply_sk, evaluation_sk = keys.evaluation_and_reply_range(message_sid)
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
            ExpressionAttributeNames={"#pk": keys.PK, "#sk": keys.SK},
            ExpressionAttributeValues=to_attributes(
                {":pk": partition, ":low": reply_sk, ":high": evaluation_sk}
            ),
            ConsistentRead=True,
        )
        evaluation: EvaluationRecord | None = None
        reply: RecordedReply | None = None
        for raw in response.get("Items", []):
            item = from_attributes(raw)
            if item[keys.SK] == evaluation_sk:
                evaluation = evaluation_from_item(item)
            elif item[keys.SK] == reply_sk:
                # Loaded with the first reply (the conversations' adapter is not a cold start's).
                from sms_automation.adapters.conversation_store import recorded_reply_from_item

                reply = recorded_reply_from_item(item)
        return evaluation, reply

    def get_many(self, message_sids: Sequence[str]) -> dict[str, EvaluationRecord]:
        """The evaluations of these messages or automation runs that have one (BatchGetItem, 100
        a call; keys DynamoDB leaves unprocessed are asked again)."""
        found: dict[str, EvaluationRecord] = {}
        for batch in itertools.batched(dict.fromkeys(message_sids), 100):
            evaluation_keys = [to_attributes(keys.evaluation_key(sid)) for sid in batch]
            pending: Any = {self._table: {"Keys": evaluation_keys, "ConsistentRead": True}}
            while pending:
                response = self._client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self._table, []):
                    evaluation = evaluation_from_item(from_attributes(item))
                    found[evaluation.message_sid] = evaluation
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
    ) -> EvaluationRecord:
        """Pin the trigger version and time zone (first attempt wins); a later attempt counts
        itself."""
        pinned = _pinned(status, trigger_version, fingerprint, now)
        return self._put_first(message_sid, account, pinned, timezone)

    def finish_once(
        self,
        message_sid: str,
        account: str,
        *,
        trigger_version: int,
        fingerprint: str,
        timezone: str,
        now: str,
        status: str,
        matched: Sequence[str],
        diagnostics: Sequence[Mapping[str, Any]],
    ) -> EvaluationRecord:
        """One put of the finished evaluation, conditional like ``start``'s."""
        finished = _pinned(status, trigger_version, fingerprint, now) | {
            "finished_at": now,
            "matched": list(matched),
            "diagnostics": [dict(d) for d in diagnostics],
            "paused_at": "",
        }
        return self._put_first(message_sid, account, finished, timezone)

    def _put_first(
        self, message_sid: str, account: str, fields: dict[str, Any], timezone: str
    ) -> EvaluationRecord:
        """The evaluation if no attempt wrote it yet; else the one there, counted."""
        item = {
            **keys.evaluation_key(message_sid),
            "kind": keys.KIND_EVALUATION,
            "message_sid": message_sid,
            "account": account,
            "attempts": 1,
            **fields,
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
        return evaluation_from_item(item)

    def _count_attempt(self, message_sid: str) -> EvaluationRecord:
        response = self._client.update_item(
            TableName=self._table,
            Key=to_attributes(keys.evaluation_key(message_sid)),
            UpdateExpression="SET #attempts = #attempts + :one",
            ExpressionAttributeNames={"#attempts": "attempts"},
            ExpressionAttributeValues=to_attributes({":one": 1}),
            ReturnValues="ALL_NEW",
        )
        return evaluation_from_item(from_attributes(response["Attributes"]))

    def finish(
        self,
        message_sid: str,
        *,
        status: str,
        now: str,
        matched: Sequence[str],
        diagnostics: Sequence[Mapping[str, Any]],
        paused_at: str | None,
    ) -> EvaluationRecord:
        """The finished record from the update's own answer (``ALL_NEW`` costs no read)."""
        response = self._client.update_item(
            TableName=self._table,
            Key=to_attributes(keys.evaluation_key(message_sid)),
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
        return evaluation_from_item(from_attributes(response["Attributes"]))
