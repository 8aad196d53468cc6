"""DynamoDB stream records (as Lambda delivers them) → the stored inbound message (as its readers
see it: ``inbound.message.message_view``) or automation run they carry. Plain dictionaries and
boto3's deserializer: Powertools' stream data classes cost ~60 ms of a cold start for two
lookups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sms_automation import keys
from sms_automation.adapters.dynamo_json import from_attributes
from sms_automation.webhooks.inbound_message import message_view


class NotAnInboundMessage(ValueError):
    """The event source mapping's filter should have kept this record away."""


def message_from_record(record: Mapping[str, Any]) -> dict[str, Any]:
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    kind_attribute = image.get("kind")
    kind = kind_attribute.get("S") if isinstance(kind_attribute, dict) else None
    if kind not in keys.PROCESSED_KINDS:
        raise NotAnInboundMessage(
            f"stream record {record.get('eventID', '?')} is not a new inbound message or "
            "automation run"
        )
    return message_view(from_attributes(dict(image)))
