"""DynamoDB stream records → the stored inbound message (or automation run) they carry."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from sms_automation import keys
from sms_automation.adapters.message_store import plain


class NotAnInboundMessage(ValueError):
    """The event source mapping's filter should have kept this record away."""


def message_from_image(record: DynamoDBRecord) -> dict[str, Any]:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image or image.get("kind") not in keys.PROCESSED_KINDS:
        raise NotAnInboundMessage(
            f"stream record {record.event_id} is not a new inbound message or automation run"
        )
    message: dict[str, Any] = plain(dict(image))
    return message
