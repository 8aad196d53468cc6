"""DynamoDB stream events from moto, in the shape Lambda's event source mapping delivers."""

from __future__ import annotations

from typing import Any

import boto3

from sms_automation.keys import PROCESSED_KINDS


class TableStream:
    """Reads a table's stream from where it was last read (TRIM_HORIZON at first)."""

    def __init__(self, table_name: str) -> None:
        self._dynamodb = boto3.client("dynamodb")
        self._streams = boto3.client("dynamodbstreams")
        self._arn = self._dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str | None] = {}

    def _shard_ids(self) -> list[str]:
        description = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description["Shards"]]

    def new_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard_id in self._shard_ids():
            iterator = (
                self._iterators.get(shard_id)
                or self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            response = self._streams.get_records(ShardIterator=iterator)
            for record in response["Records"]:
                record.setdefault("eventSourceARN", self._arn)
                records.append(_lambda_shape(record))
            self._iterators[shard_id] = response.get("NextShardIterator")
        return records

    def inserts_of_inbound_messages(self) -> list[dict[str, Any]]:
        """What the event source mapping's filter lets through: INSERTs of inbound messages
        and of automation runs' origins."""
        return [
            r
            for r in self.new_records()
            if r["eventName"] == "INSERT"
            and r["dynamodb"].get("NewImage", {}).get("kind", {}).get("S") in PROCESSED_KINDS
        ]


def _lambda_shape(record: dict[str, Any]) -> dict[str, Any]:
    """boto3 parses ``ApproximateCreationDateTime`` into a datetime; Lambda sends epoch seconds."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if created is not None and not isinstance(created, int | float):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": dynamodb}


def stream_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}
