"""``record`` steps' writes to DynamoDB tables (``processing.ports.RecordTables``).

A failure becomes ``RecordRefused`` with its AWS error code and whether it is transient
(``aws_failures``): the effect decides from that whether the step is retried or failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code, is_transient
from sms_automation.adapters.dynamo_json import to_attributes
from sms_automation.processing.ports import RecordRefused

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoRecordTables:
    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client

    def put(self, table: str, item: Mapping[str, Any]) -> None:
        try:
            self._client.put_item(TableName=table, Item=to_attributes(dict(item)))
        except AWS_ERRORS as error:
            raise RecordRefused(error_code(error), transient=is_transient(error)) from error
